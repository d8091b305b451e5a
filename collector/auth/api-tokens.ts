/**
 * Technicians' API tokens: the repository every store implements (SQLite in
 * sqlite-api-tokens.ts; a network database later; contract in
 * test/collector/auth/api-tokens-contract.ts) and the service over it. The store
 * keeps hashes only; the token's value is made and hashed here and shown once.
 */
import { hashToken, newId, newToken } from '../core/secrets.js'

export type Role = 'viewer' | 'technician' | 'admin'

export interface ApiPrincipal { id: string, role: Role, name: string }
export interface ApiTokenInfo { id: string, role: Role, name: string, createdMs: number, revokedMs: number | null, expiresMs: number | null }

export interface ApiTokenRepository {
  /** Adds a token; an id or hash already kept is refused. */
  insert: (row: { id: string, tokenHash: string, role: Role, name: string, createdMs: number, expiresMs: number | null }) => Promise<void>
  /** The unrevoked token with this hash (expired or not: the caller decides). */
  findByHash: (tokenHash: string) => Promise<(ApiPrincipal & { expiresMs: number | null }) | undefined>
  /** Unrevoked tokens (expired ones included). */
  countUnrevoked: () => Promise<number>
  /** Every token, newest first (created, then id). */
  list: () => Promise<ApiTokenInfo[]>
  get: (id: string) => Promise<ApiTokenInfo | undefined>
  /** Revokes at `atMs`; false if unknown or already revoked. */
  revoke: (id: string, atMs: number) => Promise<boolean>
}

export class ApiTokens {
  readonly #store: ApiTokenRepository
  constructor (store: ApiTokenRepository) { this.#store = store }

  /** Creates a technician API token; `expiresMs` null = never expires (the API and CLI always give one). */
  async create (role: Role, name: string, nowMs = Date.now(), expiresMs: number | null = null): Promise<{ id: string, token: string, expiresMs: number | null }> {
    const id = newId('tok')
    const token = newToken('vgt')
    await this.#store.insert({ id, tokenHash: hashToken(token), role, name, createdMs: nowMs, expiresMs })
    return { id, token, expiresMs }
  }

  /** The unrevoked token's principal and expiry (the caller refuses it once expired). */
  async find (token: string): Promise<(ApiPrincipal & { expiresMs: number | null }) | undefined> {
    return await this.#store.findByHash(hashToken(token))
  }

  async count (): Promise<number> { return await this.#store.countUnrevoked() }
  /** Every API token (never its hash or value), newest first. */
  async list (): Promise<ApiTokenInfo[]> { return await this.#store.list() }
  async get (id: string): Promise<ApiTokenInfo | undefined> { return await this.#store.get(id) }
  /** Revokes an API token at once; false if unknown or already revoked. */
  async revoke (id: string, nowMs = Date.now()): Promise<boolean> { return await this.#store.revoke(id, nowMs) }
}
