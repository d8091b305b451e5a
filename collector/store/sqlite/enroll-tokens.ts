/**
 * Enrollment tokens in the embedded SQLite database: what an agent presents to
 * enroll. Each may expire and be limited in uses; a use is consumed atomically.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import { hashToken, newId, newToken } from '../../core/secrets.js'

export interface EnrollTokenInfo { id: string, name: string, createdMs: number, expiresMs: number | null, maxUses: number | null, uses: number, revokedMs: number | null }

interface RawEnrollToken { id: string, name: string, created_ms: number, expires_ms: number | null, max_uses: number | null, uses: number, revoked_ms: number | null }

export class SqliteEnrollTokens {
  readonly #insert: Statement
  readonly #list: Statement<[], RawEnrollToken>
  readonly #revoke: Statement<[number, string]>
  readonly #consume: Statement<[string, number]>

  constructor (db: Db) {
    this.#insert = db.prepare('INSERT INTO enroll_tokens (id, token_hash, name, created_ms, expires_ms, max_uses) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO NOTHING')
    this.#list = db.prepare('SELECT id, name, created_ms, expires_ms, max_uses, uses, revoked_ms FROM enroll_tokens ORDER BY created_ms DESC, id')
    this.#revoke = db.prepare('UPDATE enroll_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL')
    this.#consume = db.prepare(`UPDATE enroll_tokens SET uses = uses + 1
      WHERE token_hash = ? AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?) AND (max_uses IS NULL OR uses < max_uses)`)
  }

  create (opts: { name: string, expiresMs?: number, maxUses?: number, token?: string }, nowMs = Date.now()): { id: string, token: string } {
    const id = newId('enr')
    const token = opts.token ?? newToken('vge')
    this.#insert.run(id, hashToken(token), opts.name, nowMs, opts.expiresMs ?? null, opts.maxUses ?? null)
    return { id, token }
  }

  /** Every enrollment token (never its hash or value), newest first. */
  list (): EnrollTokenInfo[] {
    return this.#list.all()
      .map(r => ({ id: r.id, name: r.name, createdMs: r.created_ms, expiresMs: r.expires_ms, maxUses: r.max_uses, uses: r.uses, revokedMs: r.revoked_ms }))
  }

  /** Revokes an enrollment token; false if unknown or already revoked. */
  revoke (id: string, nowMs = Date.now()): boolean {
    return this.#revoke.run(nowMs, id).changes === 1
  }

  /** Uses one enrollment of the token if it is valid now; false otherwise. Atomic. */
  consume (token: string, nowMs = Date.now()): boolean {
    const r = this.#consume.run(hashToken(token), nowMs)
    return r.changes === 1
  }
}
