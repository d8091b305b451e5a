/** Enrollment tokens (enroll-tokens.ts) in the collector's SQLite database; the table is made by the store's schema. */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../store/sqlite/db.js'
import type { EnrollTokenInfo, EnrollTokenRepository } from './enroll-tokens.js'

interface RawEnrollToken { id: string, name: string, created_ms: number, expires_ms: number | null, max_uses: number | null, uses: number, revoked_ms: number | null }

export class SqliteEnrollTokenStore implements EnrollTokenRepository {
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

  async insert (r: { id: string, tokenHash: string, name: string, createdMs: number, expiresMs: number | null, maxUses: number | null }): Promise<boolean> {
    return this.#insert.run(r.id, r.tokenHash, r.name, r.createdMs, r.expiresMs, r.maxUses).changes === 1
  }

  async list (): Promise<EnrollTokenInfo[]> {
    return this.#list.all()
      .map(r => ({ id: r.id, name: r.name, createdMs: r.created_ms, expiresMs: r.expires_ms, maxUses: r.max_uses, uses: r.uses, revokedMs: r.revoked_ms }))
  }

  async revoke (id: string, atMs: number): Promise<boolean> { return this.#revoke.run(atMs, id).changes === 1 }
  async consume (tokenHash: string, atMs: number): Promise<boolean> { return this.#consume.run(tokenHash, atMs).changes === 1 }
}
