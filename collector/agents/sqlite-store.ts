/**
 * Agents (repository.ts) in the collector's SQLite database: the `agents` table
 * of the core schema and the trust chain's rotation tables (auth/schema.ts).
 * Calls run synchronously and return settled promises; the multi-statement
 * ones are one transaction each.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from '../store/sqlite/db.js'
import { migrateAuth } from '../auth/schema.js'
import { hardwareDiffers, type EnrolledHardware } from './identity.js'
import type { AgentIdentityFlag, AgentInfo, AgentPrincipal, AgentRepository, AgentStatus, EnrollRequest, EnrollResult, TokenState } from './repository.js'

interface RawAgent { id: string, hostname: string, created_ms: number, revoked_ms: number | null, token_hash: string, status: AgentStatus, hardware_json: string | null, identity_json: string | null }
const AGENT_SELECT = 'SELECT id, hostname, created_ms, revoked_ms, token_hash, status, hardware_json, identity_json FROM agents'
const parseHardware = (json: string | null): EnrolledHardware | null => json === null ? null : JSON.parse(json) as EnrolledHardware
function toAgentInfo (r: RawAgent): AgentInfo {
  return {
    id: r.id, hostname: r.hostname, createdMs: r.created_ms, revokedMs: r.revoked_ms, tokenHash: r.token_hash, status: r.status,
    hardware: parseHardware(r.hardware_json),
    identity: r.identity_json === null ? null : JSON.parse(r.identity_json) as AgentIdentityFlag
  }
}

export class SqliteAgentStore implements AgentRepository {
  readonly #db: Db
  readonly #sameAgent: Statement<[string, string], { id: string, status: AgentStatus }>
  readonly #reenroll: Statement
  readonly #sharing: Statement<[string], { id: string, hardware_json: string | null }>
  readonly #insert: Statement
  readonly #isReenrollment: Statement<[string, string]>
  readonly #countMachines: Statement<[], { n: number }>
  readonly #lastSeq: Statement<[{ id: string }], { n: number }>
  readonly #list: Statement<[number], RawAgent>
  readonly #listByStatus: Statement<[AgentStatus, number], RawAgent>
  readonly #unrevoke: Statement<[string]>
  readonly #approve: Statement<[string]>
  readonly #reject: Statement<[number, string]>
  readonly #revokedByHash: Statement<[string], { id: string }>
  readonly #byHash: Statement<[string], { id: string, hostname: string, status: AgentStatus, created_ms: number }>
  readonly #isActive: Statement<[string]>
  readonly #get: Statement<[string], RawAgent>
  readonly #currentHash: Statement<[string], { token_hash: string, created_ms: number }>
  readonly #setHash: Statement<[string, string]>
  readonly #revoke: Statement<[number, string]>
  readonly #insertGrace: Statement<[string, string, number]>
  readonly #resetState: Statement<[string, number]>
  readonly #byGrace: Statement<[string, number], { agent_id: string }>
  readonly #state: Statement<[string], { issued_ms: number, rotate_due_ms: number | null, deadline_ms: number | null, due_token_hash: string | null }>
  readonly #requestRotation: Statement<[string, number, number, number | null, string]>
  readonly #dropGrace: Statement<[string]>
  readonly #pruneGrace: Statement<[number]>

  constructor (db: Db) {
    migrateAuth(db)
    this.#db = db
    this.#sameAgent = db.prepare('SELECT id, status FROM agents WHERE token_hash = ? AND machine_key = ? AND revoked_ms IS NULL')
    this.#reenroll = db.prepare('UPDATE agents SET token_hash = ?, hostname = ?, hardware_json = COALESCE(?, hardware_json) WHERE id = ?')
    this.#sharing = db.prepare('SELECT id, hardware_json FROM agents WHERE machine_key = ? ORDER BY created_ms LIMIT 20')
    this.#insert = db.prepare('INSERT INTO agents (id, token_hash, machine_key, hostname, created_ms, status, hardware_json, identity_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    this.#isReenrollment = db.prepare("SELECT 1 FROM agents WHERE token_hash = ? AND machine_key = ? AND revoked_ms IS NULL AND status != 'rejected'")
    this.#countMachines = db.prepare('SELECT COUNT(*) AS n FROM agents WHERE revoked_ms IS NULL')
    this.#lastSeq = db.prepare(`SELECT MAX(
      COALESCE((SELECT MAX(seq) FROM reports WHERE agent_id = @id), 0),
      COALESCE((SELECT pruned_seq FROM agents WHERE id = @id), 0),
      COALESCE((SELECT last_seq FROM machines WHERE id = @id), 0)) AS n`)
    this.#list = db.prepare(`${AGENT_SELECT} ORDER BY created_ms DESC, id LIMIT ?`)
    this.#listByStatus = db.prepare(`${AGENT_SELECT} WHERE status = ? ORDER BY created_ms DESC, id LIMIT ?`)
    this.#unrevoke = db.prepare("UPDATE agents SET revoked_ms = NULL WHERE id = ? AND revoked_ms IS NOT NULL AND status != 'rejected'")
    this.#approve = db.prepare("UPDATE agents SET status = 'active' WHERE id = ? AND status = 'pending' AND revoked_ms IS NULL")
    this.#reject = db.prepare("UPDATE agents SET status = 'rejected', revoked_ms = ? WHERE id = ? AND status = 'pending' AND revoked_ms IS NULL")
    this.#revokedByHash = db.prepare('SELECT id FROM agents WHERE token_hash = ? AND revoked_ms IS NOT NULL')
    this.#byHash = db.prepare('SELECT id, hostname, status, created_ms FROM agents WHERE token_hash = ? AND revoked_ms IS NULL')
    this.#isActive = db.prepare("SELECT 1 FROM agents WHERE id = ? AND revoked_ms IS NULL AND status = 'active'")
    this.#get = db.prepare(`${AGENT_SELECT} WHERE id = ?`)
    this.#currentHash = db.prepare('SELECT token_hash, created_ms FROM agents WHERE id = ? AND revoked_ms IS NULL')
    this.#setHash = db.prepare('UPDATE agents SET token_hash = ? WHERE id = ?')
    this.#revoke = db.prepare('UPDATE agents SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL')
    this.#insertGrace = db.prepare('INSERT OR REPLACE INTO agent_grace_tokens (token_hash, agent_id, expires_ms) VALUES (?, ?, ?)')
    this.#resetState = db.prepare(`INSERT INTO agent_token_state (agent_id, issued_ms) VALUES (?, ?)
      ON CONFLICT(agent_id) DO UPDATE SET issued_ms = excluded.issued_ms, rotate_due_ms = NULL, deadline_ms = NULL, due_token_hash = NULL`)
    this.#byGrace = db.prepare(`SELECT g.agent_id FROM agent_grace_tokens g JOIN agents a ON a.id = g.agent_id
      WHERE g.token_hash = ? AND g.expires_ms > ? AND a.revoked_ms IS NULL AND a.status = 'active'`)
    this.#state = db.prepare('SELECT issued_ms, rotate_due_ms, deadline_ms, due_token_hash FROM agent_token_state WHERE agent_id = ?')
    this.#requestRotation = db.prepare(`INSERT INTO agent_token_state (agent_id, issued_ms, rotate_due_ms, deadline_ms, due_token_hash) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(agent_id) DO UPDATE SET rotate_due_ms = excluded.rotate_due_ms, deadline_ms = excluded.deadline_ms, due_token_hash = excluded.due_token_hash`)
    this.#dropGrace = db.prepare('DELETE FROM agent_grace_tokens WHERE agent_id = ?')
    this.#pruneGrace = db.prepare('DELETE FROM agent_grace_tokens WHERE expires_ms <= ?')
  }

  async enroll (r: EnrollRequest): Promise<EnrollResult> {
    const hardware = r.hardware === undefined ? null : JSON.stringify({ ...r.hardware, hostname: r.hostname })
    return this.#db.transaction((): EnrollResult => {
      if (r.machineKey !== undefined && r.presentedHash !== undefined) {
        const same = this.#sameAgent.get(r.presentedHash, r.machineKey)
        if (same !== undefined && same.status !== 'rejected') {
          this.#reenroll.run(r.tokenHash, r.hostname, hardware, same.id)
          return { agentId: same.id, status: same.status, reenrolled: true, lastSeq: this.#lastSeqOf(same.id) }
        }
      }
      const sharing = r.machineKey === undefined ? [] : this.#sharing.all(r.machineKey)
      let identity: AgentIdentityFlag | undefined
      if (sharing.length > 0) {
        // A clone differs from every machine with the key; the same hardware as one of them is a reinstall (or an impersonation).
        const mine = parseHardware(hardware)
        const differs = sharing.every(s => hardwareDiffers(parseHardware(s.hardware_json), mine))
        identity = { machineKeySharedWith: sharing.map(s => s.id), hardwareDiffers: differs }
      }
      this.#insert.run(r.newId, r.tokenHash, r.machineKey ?? null, r.hostname, r.atMs, identity === undefined ? 'active' : 'pending', hardware, identity === undefined ? null : JSON.stringify(identity))
      return { agentId: r.newId, status: identity === undefined ? 'active' : 'pending', reenrolled: false, lastSeq: 0, ...(identity !== undefined ? { identity } : {}) }
    })()
  }

  async isReenrollment (machineKey: string, presentedHash: string): Promise<boolean> {
    return this.#isReenrollment.get(presentedHash, machineKey) !== undefined
  }

  async countMachines (): Promise<number> { return this.#countMachines.get()?.n ?? 0 }
  #lastSeqOf (agentId: string): number { return this.#lastSeq.get({ id: agentId })?.n ?? 0 }
  async lastSeq (agentId: string): Promise<number> { return this.#lastSeqOf(agentId) }

  async list (status: AgentStatus | undefined, limit: number): Promise<AgentInfo[]> {
    return (status === undefined ? this.#list.all(limit) : this.#listByStatus.all(status, limit)).map(toAgentInfo)
  }

  async get (agentId: string): Promise<AgentInfo | undefined> {
    const r = this.#get.get(agentId)
    return r === undefined ? undefined : toAgentInfo(r)
  }

  async byTokenHash (tokenHash: string): Promise<(AgentPrincipal & { status: AgentStatus, createdMs: number }) | undefined> {
    const r = this.#byHash.get(tokenHash)
    return r === undefined ? undefined : { id: r.id, hostname: r.hostname, status: r.status, createdMs: r.created_ms, ...(r.status === 'pending' ? { pending: true } : {}) }
  }

  async revokedByTokenHash (tokenHash: string): Promise<string | undefined> { return this.#revokedByHash.get(tokenHash)?.id }
  async isActive (agentId: string): Promise<boolean> { return this.#isActive.get(agentId) !== undefined }
  async approve (agentId: string): Promise<boolean> { return this.#approve.run(agentId).changes === 1 }

  async reject (agentId: string, atMs: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#reject.run(atMs, agentId).changes !== 1) return false
      this.#dropGrace.run(agentId)
      return true
    })()
  }

  async revoke (agentId: string, atMs: number): Promise<boolean> {
    return this.#db.transaction(() => {
      if (this.#revoke.run(atMs, agentId).changes !== 1) return false
      this.#dropGrace.run(agentId)
      return true
    })()
  }

  async unrevoke (agentId: string): Promise<boolean> { return this.#unrevoke.run(agentId).changes === 1 }

  async rotateToken (agentId: string, newHash: string, atMs: number, graceUntilMs: number | null): Promise<{ previousHash: string } | undefined> {
    return this.#db.transaction(() => {
      const row = this.#currentHash.get(agentId)
      if (row === undefined) return undefined
      this.#setHash.run(newHash, agentId)
      if (graceUntilMs !== null) this.#insertGrace.run(row.token_hash, agentId, graceUntilMs)
      this.#resetState.run(agentId, atMs)
      return { previousHash: row.token_hash }
    })()
  }

  async byGraceHash (tokenHash: string, atMs: number): Promise<string | undefined> { return this.#byGrace.get(tokenHash, atMs)?.agent_id }

  async tokenState (agentId: string): Promise<TokenState | undefined> {
    const r = this.#state.get(agentId)
    return r === undefined ? undefined : { issuedMs: r.issued_ms, rotateDueMs: r.rotate_due_ms, deadlineMs: r.deadline_ms, dueTokenHash: r.due_token_hash }
  }

  async requestRotation (agentId: string, atMs: number, deadlineMs: number | null): Promise<boolean> {
    const row = this.#currentHash.get(agentId)
    if (row === undefined) return false
    this.#requestRotation.run(agentId, row.created_ms, atMs, deadlineMs, row.token_hash)
    return true
  }

  async pruneGraceTokens (atMs: number): Promise<number> { return this.#pruneGrace.run(atMs).changes }
}
