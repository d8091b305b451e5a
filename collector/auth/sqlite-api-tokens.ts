/**
 * API tokens (api-tokens.ts) in the collector's SQLite database. The table is
 * made by the store's schema and its expiry column by its own migration chain
 * (run by the registry before this class is made).
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../store/sqlite/db.js'
import type { ApiPrincipal, ApiTokenInfo, ApiTokenRepository, Role } from './api-tokens.js'

interface RawApiToken { id: string, role: Role, name: string, created_ms: number, revoked_ms: number | null, expires_ms: number | null }
function toInfo (r: RawApiToken): ApiTokenInfo {
  return { id: r.id, role: r.role, name: r.name, createdMs: r.created_ms, revokedMs: r.revoked_ms, expiresMs: r.expires_ms }
}

export class SqliteApiTokenStore implements ApiTokenRepository {
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

  async insert (r: { id: string, tokenHash: string, role: Role, name: string, createdMs: number, expiresMs: number | null }): Promise<void> {
    this.#insert.run(r.id, r.tokenHash, r.role, r.name, r.createdMs, r.expiresMs)
  }

  async findByHash (tokenHash: string): Promise<(ApiPrincipal & { expiresMs: number | null }) | undefined> {
    const row = this.#find.get(tokenHash)
    return row === undefined ? undefined : { id: row.id, role: row.role, name: row.name, expiresMs: row.expires_ms }
  }

  async countUnrevoked (): Promise<number> { return this.#count.get()?.n ?? 0 }
  async list (): Promise<ApiTokenInfo[]> { return this.#list.all().map(toInfo) }

  async get (id: string): Promise<ApiTokenInfo | undefined> {
    const r = this.#get.get(id)
    return r === undefined ? undefined : toInfo(r)
  }

  async revoke (id: string, atMs: number): Promise<boolean> { return this.#revoke.run(atMs, id).changes === 1 }
}
