/**
 * Technicians' API tokens in the embedded SQLite database: created, found by
 * value (only the hash is stored), listed, revoked. The expiry column is its own
 * migration chain, run by the registry before this class is made.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import { hashToken, newId, newToken } from '../../core/secrets.js'

export type Role = 'viewer' | 'technician' | 'admin'

export interface ApiPrincipal { id: string, role: Role, name: string }
export interface ApiTokenInfo { id: string, role: Role, name: string, createdMs: number, revokedMs: number | null, expiresMs: number | null }

interface RawApiToken { id: string, role: Role, name: string, created_ms: number, revoked_ms: number | null, expires_ms: number | null }
function toInfo (r: RawApiToken): ApiTokenInfo {
  return { id: r.id, role: r.role, name: r.name, createdMs: r.created_ms, revokedMs: r.revoked_ms, expiresMs: r.expires_ms }
}

export class SqliteApiTokens {
  readonly #insert: Statement
  readonly #find: Statement<[string], { id: string, role: Role, name: string, expires_ms: number | null }>
  readonly #count: Statement<[], { n: number }>
  readonly #list: Statement<[], RawApiToken>
  readonly #get: Statement<[string], RawApiToken>
  readonly #revoke: Statement<[number, string]>

  constructor (db: Db) {
    this.#insert = db.prepare('INSERT INTO api_tokens (id, token_hash, role, name, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)')
    this.#find = db.prepare('SELECT id, role, name, expires_ms FROM api_tokens WHERE token_hash = ? AND revoked_ms IS NULL')
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_ms IS NULL')
    this.#list = db.prepare('SELECT id, role, name, created_ms, revoked_ms, expires_ms FROM api_tokens ORDER BY created_ms DESC, id')
    this.#get = db.prepare('SELECT id, role, name, created_ms, revoked_ms, expires_ms FROM api_tokens WHERE id = ?')
    this.#revoke = db.prepare('UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL')
  }

  /** Creates a technician API token; `expiresMs` null = never expires (the API and CLI always give one). */
  create (role: Role, name: string, nowMs = Date.now(), expiresMs: number | null = null): { id: string, token: string, expiresMs: number | null } {
    const id = newId('tok')
    const token = newToken('vgt')
    this.#insert.run(id, hashToken(token), role, name, nowMs, expiresMs)
    return { id, token, expiresMs }
  }

  /** The unrevoked token's principal and expiry (the caller refuses it once expired). */
  find (token: string): (ApiPrincipal & { expiresMs: number | null }) | undefined {
    const row = this.#find.get(hashToken(token))
    return row === undefined ? undefined : { id: row.id, role: row.role, name: row.name, expiresMs: row.expires_ms }
  }

  count (): number {
    return (this.#count.get() as { n: number }).n
  }

  /** Every API token (never its hash or value), newest first. */
  list (): ApiTokenInfo[] {
    return this.#list.all().map(toInfo)
  }

  get (id: string): ApiTokenInfo | undefined {
    const r = this.#get.get(id)
    return r === undefined ? undefined : toInfo(r)
  }

  /** Revokes an API token at once; false if unknown or already revoked. */
  revoke (id: string, nowMs = Date.now()): boolean {
    return this.#revoke.run(nowMs, id).changes === 1
  }
}
