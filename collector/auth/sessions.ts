/**
 * Browser sessions of technicians. The cookie carries 256 random bits; only
 * their SHA-256 is stored, with the CSRF token bound to the session. A session
 * ends at its expiry, at sign-out, when its user is disabled, deleted or changes
 * password, and is dropped beyond a per-user bound (oldest first).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from '../store/sqlite/db.js'
import type { Role } from './api-tokens.js'
import { hashToken } from '../core/secrets.js'
import { migrateAuth } from './schema.js'

/** Sessions kept per user; a new sign-in beyond this ends the oldest. */
export const MAX_SESSIONS_PER_USER = 20

export interface Session {
  userId: string
  username: string
  role: Role
  csrfToken: string
  expiresMs: number
  idHash: string
}

export class SessionStore {
  readonly #db: Db

  constructor (db: Db) {
    migrateAuth(db)
    this.#db = db
  }

  create (userId: string, ttlMs: number, nowMs: number): { id: string, csrfToken: string, expiresMs: number } {
    const id = randomBytes(32).toString('base64url')
    const csrfToken = randomBytes(24).toString('base64url')
    const expiresMs = nowMs + ttlMs
    const tx = this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO sessions (id_hash, user_id, csrf_token, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?)').run(hashToken(id), userId, csrfToken, nowMs, expiresMs)
      this.#db.prepare(`DELETE FROM sessions WHERE user_id = ? AND id_hash NOT IN
        (SELECT id_hash FROM sessions WHERE user_id = ? ORDER BY created_ms DESC LIMIT ?)`).run(userId, userId, MAX_SESSIONS_PER_USER)
    })
    tx()
    return { id, csrfToken, expiresMs }
  }

  /** The live session for a cookie value, with its user's current role; undefined if expired, unknown or the user is disabled. */
  find (id: string, nowMs: number): Session | undefined {
    if (id.length < 20 || id.length > 128) return undefined
    const r = this.#db.prepare(`SELECT s.id_hash, s.user_id, s.csrf_token, s.expires_ms, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = ? AND s.expires_ms > ? AND u.disabled_ms IS NULL`).get(hashToken(id), nowMs) as
      { id_hash: string, user_id: string, csrf_token: string, expires_ms: number, username: string, role: Role } | undefined
    if (r === undefined) return undefined
    return { idHash: r.id_hash, userId: r.user_id, username: r.username, role: r.role, csrfToken: r.csrf_token, expiresMs: r.expires_ms }
  }

  delete (idHash: string): void {
    this.#db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash)
  }

  /** Ends every session of a user (password change, disable, delete). */
  deleteForUser (userId: string): number {
    return this.#db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes
  }

  prune (nowMs: number): number {
    return this.#db.prepare('DELETE FROM sessions WHERE expires_ms <= ?').run(nowMs).changes
  }
}

/** Constant-time string equality for CSRF tokens. */
export function sameSecret (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
