/**
 * Technician accounts: a username, a role (viewer < technician < admin) and a
 * scrypt password hash. Usernames are unique without regard to case.
 */
import type { Db } from '../store/sqlite/db.js'
import type { Role } from './api-tokens.js'
import { newId } from '../core/secrets.js'
import { migrateAuth } from './schema.js'

export const ROLES: readonly Role[] = ['viewer', 'technician', 'admin']
export const ROLE_RANK: Record<Role, number> = { viewer: 1, technician: 2, admin: 3 }
export const USERNAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$'

/** What the API shows of a user (never the hash). */
export interface User {
  id: string
  username: string
  role: Role
  createdMs: number
  updatedMs: number
  passwordChangedMs: number
  disabledMs: number | null
}

interface RawUser {
  id: string, username: string, role: Role, password_hash: string, created_ms: number,
  updated_ms: number, password_changed_ms: number, disabled_ms: number | null
}

function toUser (r: RawUser): User {
  return { id: r.id, username: r.username, role: r.role, createdMs: r.created_ms, updatedMs: r.updated_ms, passwordChangedMs: r.password_changed_ms, disabledMs: r.disabled_ms }
}

export class UserStore {
  readonly #db: Db

  constructor (db: Db) {
    migrateAuth(db)
    this.#db = db
  }

  /** Creates a user; undefined when the username is taken. */
  create (opts: { username: string, role: Role, passwordHash: string }, nowMs: number): User | undefined {
    const id = newId('usr')
    const r = this.#db.prepare(`INSERT INTO users (id, username, role, password_hash, created_ms, updated_ms, password_changed_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(username) DO NOTHING`).run(id, opts.username, opts.role, opts.passwordHash, nowMs, nowMs, nowMs)
    return r.changes === 1 ? this.get(id) : undefined
  }

  get (id: string): User | undefined {
    const r = this.#db.prepare('SELECT * FROM users WHERE id = ?').get(id) as RawUser | undefined
    return r === undefined ? undefined : toUser(r)
  }

  /** The user and its password hash, for sign-in. */
  findForLogin (username: string): { user: User, passwordHash: string } | undefined {
    const r = this.#db.prepare('SELECT * FROM users WHERE username = ?').get(username) as RawUser | undefined
    return r === undefined ? undefined : { user: toUser(r), passwordHash: r.password_hash }
  }

  list (): User[] {
    return (this.#db.prepare('SELECT * FROM users ORDER BY username').all() as RawUser[]).map(toUser)
  }

  update (id: string, change: { role?: Role, passwordHash?: string, disabled?: boolean }, nowMs: number): User | undefined {
    const u = this.get(id)
    if (u === undefined) return undefined
    const tx = this.#db.transaction(() => {
      if (change.role !== undefined) this.#db.prepare('UPDATE users SET role = ?, updated_ms = ? WHERE id = ?').run(change.role, nowMs, id)
      if (change.passwordHash !== undefined) this.#db.prepare('UPDATE users SET password_hash = ?, password_changed_ms = ?, updated_ms = ? WHERE id = ?').run(change.passwordHash, nowMs, nowMs, id)
      if (change.disabled !== undefined) this.#db.prepare('UPDATE users SET disabled_ms = ?, updated_ms = ? WHERE id = ?').run(change.disabled ? (u.disabledMs ?? nowMs) : null, nowMs, id)
    })
    tx()
    return this.get(id)
  }

  delete (id: string): boolean {
    return this.#db.prepare('DELETE FROM users WHERE id = ?').run(id).changes === 1
  }

  /** Enabled admins, for the "never lock everyone out" rule. */
  countActiveAdmins (): number {
    return (this.#db.prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_ms IS NULL").get() as { n: number }).n
  }

  /* ---- API tokens owned by users ---- */

  setTokenOwner (tokenId: string, userId: string): void {
    this.#db.prepare('INSERT OR REPLACE INTO api_token_owners (token_id, user_id) VALUES (?, ?)').run(tokenId, userId)
  }

  tokenOwner (tokenId: string): string | undefined {
    return (this.#db.prepare('SELECT user_id FROM api_token_owners WHERE token_id = ?').get(tokenId) as { user_id: string } | undefined)?.user_id
  }

  tokensOf (userId: string): string[] {
    return (this.#db.prepare('SELECT token_id FROM api_token_owners WHERE user_id = ?').all(userId) as Array<{ token_id: string }>).map(r => r.token_id)
  }
}
