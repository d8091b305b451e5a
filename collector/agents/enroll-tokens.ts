/**
 * Enrollment tokens, what an agent presents to enroll: the repository every store
 * implements (SQLite in sqlite-enroll-tokens.ts; contract in
 * test/collector/agents/enroll-tokens-contract.ts) and the service over it. Each
 * token may expire and be limited in uses; a use is consumed atomically. The
 * store keeps hashes only.
 */
import { hashToken, newId, newToken } from '../core/secrets.js'

export interface EnrollTokenInfo { id: string, name: string, createdMs: number, expiresMs: number | null, maxUses: number | null, uses: number, revokedMs: number | null }

export interface EnrollTokenRepository {
  /** Adds a token; false (nothing added) when a token with this hash is already kept. */
  insert: (row: { id: string, tokenHash: string, name: string, createdMs: number, expiresMs: number | null, maxUses: number | null }) => Promise<boolean>
  /** Every token, newest first (created, then id). */
  list: () => Promise<EnrollTokenInfo[]>
  /** Revokes at `atMs`; false if unknown or already revoked. */
  revoke: (id: string, atMs: number) => Promise<boolean>
  /**
   * Uses one enrollment of the token with this hash if, at `atMs`, it is unrevoked,
   * unexpired and has uses left; false otherwise. Atomic: two concurrent calls on a
   * token with one use left get one true.
   */
  consume: (tokenHash: string, atMs: number) => Promise<boolean>
}

export class EnrollTokens {
  readonly #store: EnrollTokenRepository
  constructor (store: EnrollTokenRepository) { this.#store = store }

  /**
   * Creates an enrollment token (`token` given: that value, e.g. the configured
   * fixed token; a value already kept is left as it is).
   */
  async create (opts: { name: string, expiresMs?: number, maxUses?: number, token?: string }, nowMs = Date.now()): Promise<{ id: string, token: string }> {
    const id = newId('enr')
    const token = opts.token ?? newToken('vge')
    await this.#store.insert({ id, tokenHash: hashToken(token), name: opts.name, createdMs: nowMs, expiresMs: opts.expiresMs ?? null, maxUses: opts.maxUses ?? null })
    return { id, token }
  }

  /** Every enrollment token (never its hash or value), newest first. */
  async list (): Promise<EnrollTokenInfo[]> { return await this.#store.list() }
  /** Revokes an enrollment token; false if unknown or already revoked. */
  async revoke (id: string, nowMs = Date.now()): Promise<boolean> { return await this.#store.revoke(id, nowMs) }
  /** Uses one enrollment of the token if it is valid now; false otherwise. Atomic. */
  async consume (token: string, nowMs = Date.now()): Promise<boolean> { return await this.#store.consume(hashToken(token), nowMs) }
}
