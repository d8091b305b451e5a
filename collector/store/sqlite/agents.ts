/**
 * Agents in the embedded SQLite database: enrollment (and the identity flag of a
 * machine key seen before), approval and rejection, revocation, token lookup and
 * rotation. Token lookups are cached: every agent request and stream frame asks.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import type { EnrollHardware } from '../../../protocol/index.js'
import { hashToken, newId, newToken } from '../../core/secrets.js'

export interface AgentPrincipal { id: string, hostname: string, /** enrolled with a known machine key and not yet approved */ pending?: boolean }
export type AgentStatus = 'active' | 'pending' | 'rejected'
/** Why an agent was flagged at enrollment: its machine key was already known (and whether the hardware differs: a cloned image). */
export interface AgentIdentityFlag { machineKeySharedWith: string[], hardwareDiffers: boolean }
export interface AgentInfo {
  id: string, hostname: string, createdMs: number, revokedMs: number | null, tokenHash: string,
  status: AgentStatus, hardware: (EnrollHardware & { hostname?: string }) | null, identity: AgentIdentityFlag | null
}
export interface EnrollOutcome {
  agentId: string, token: string, status: 'active' | 'pending', reenrolled: boolean, lastSeq: number, identity?: AgentIdentityFlag
}

interface RawAgent { id: string, hostname: string, created_ms: number, revoked_ms: number | null, token_hash: string, status: AgentStatus, hardware_json: string | null, identity_json: string | null }
const AGENT_SELECT = 'SELECT id, hostname, created_ms, revoked_ms, token_hash, status, hardware_json, identity_json FROM agents'
function toAgentInfo (r: RawAgent): AgentInfo {
  return {
    id: r.id, hostname: r.hostname, createdMs: r.created_ms, revokedMs: r.revoked_ms, tokenHash: r.token_hash, status: r.status,
    hardware: r.hardware_json === null ? null : JSON.parse(r.hardware_json) as AgentInfo['hardware'],
    identity: r.identity_json === null ? null : JSON.parse(r.identity_json) as AgentIdentityFlag
  }
}

/**
 * Two enrollments' hardware differ when a fact both state differs: serial, model,
 * manufacturer, host name, or network adapters with no address in common.
 * Unknown on either side is not a difference.
 */
function hardwareDiffers (a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false
  const x = JSON.parse(a) as EnrollHardware & { hostname?: string }
  const y = JSON.parse(b) as EnrollHardware & { hostname?: string }
  for (const k of ['serial', 'model', 'manufacturer', 'hostname'] as const) {
    if (x[k] !== undefined && y[k] !== undefined && x[k] !== y[k]) return true
  }
  if (x.macs !== undefined && y.macs !== undefined && x.macs.length > 0 && y.macs.length > 0) {
    const set = new Set(x.macs.map(m => m.toLowerCase()))
    if (!y.macs.some(m => set.has(m.toLowerCase()))) return true
  }
  return false
}

export class SqliteAgents {
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
  readonly #findRevoked: Statement<[string], { id: string }>
  readonly #find: Statement<[string], { id: string, hostname: string, status: AgentStatus }>
  readonly #isActive: Statement<[string]>
  readonly #get: Statement<[string], RawAgent>
  readonly #currentHash: Statement<[string], { token_hash: string }>
  readonly #setHash: Statement<[string, string]>
  readonly #revoke: Statement<[number, string]>
  /**
   * Active agents by token hash, and active agent ids: every agent request and
   * stream frame asks, so the answers are kept. Only hits are kept (random tokens
   * cannot grow it); any change to the agents table clears both.
   */
  readonly #agentByHash = new Map<string, AgentPrincipal>()
  readonly #activeAgents = new Set<string>()

  constructor (db: Db) {
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
    this.#findRevoked = db.prepare('SELECT id FROM agents WHERE token_hash = ? AND revoked_ms IS NOT NULL')
    this.#find = db.prepare('SELECT id, hostname, status FROM agents WHERE token_hash = ? AND revoked_ms IS NULL')
    this.#isActive = db.prepare("SELECT 1 FROM agents WHERE id = ? AND revoked_ms IS NULL AND status = 'active'")
    this.#get = db.prepare(`${AGENT_SELECT} WHERE id = ?`)
    this.#currentHash = db.prepare('SELECT token_hash FROM agents WHERE id = ? AND revoked_ms IS NULL')
    this.#setHash = db.prepare('UPDATE agents SET token_hash = ? WHERE id = ?')
    this.#revoke = db.prepare('UPDATE agents SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL')
  }

  /**
   * Registers an agent and returns its secret token (only its hash is kept).
   * A machine key already known keeps its agent id only when the request proves it
   * is that agent (`agentToken`: its current token); otherwise it is a NEW agent,
   * 'pending' until an admin approves it, flagged with the agents it shares the key
   * with and whether their hardware differs (a cloned image). Re-enrollment never
   * lifts a revocation. `lastSeq` is the highest seq stored under the id.
   */
  enroll (opts: { hostname: string, machineKey?: string, hardware?: EnrollHardware, agentToken?: string }, nowMs = Date.now()): EnrollOutcome {
    const token = newToken('vga')
    const hardware = opts.hardware === undefined ? null : JSON.stringify({ ...opts.hardware, hostname: opts.hostname })
    const tx = this.#db.transaction((): EnrollOutcome => {
      if (opts.machineKey !== undefined && opts.agentToken !== undefined) {
        const same = this.#sameAgent.get(hashToken(opts.agentToken), opts.machineKey)
        if (same !== undefined && same.status !== 'rejected') {
          this.#reenroll.run(hashToken(token), opts.hostname, hardware, same.id)
          return { agentId: same.id, token, status: same.status, reenrolled: true, lastSeq: this.lastSeq(same.id) }
        }
      }
      const sharing = opts.machineKey === undefined ? [] : this.#sharing.all(opts.machineKey)
      const id = newId('m')
      let identity: AgentIdentityFlag | undefined
      if (sharing.length > 0) {
        // A clone differs from every machine with the key; the same hardware as one of them is a reinstall (or an impersonation).
        const differs = sharing.every(r => hardwareDiffers(r.hardware_json, hardware))
        identity = { machineKeySharedWith: sharing.map(r => r.id), hardwareDiffers: differs }
      }
      this.#insert.run(id, hashToken(token), opts.machineKey ?? null, opts.hostname, nowMs, identity === undefined ? 'active' : 'pending', hardware, identity === undefined ? null : JSON.stringify(identity))
      return { agentId: id, token, status: identity === undefined ? 'active' : 'pending', reenrolled: false, lastSeq: 0, ...(identity !== undefined ? { identity } : {}) }
    })
    const out = tx()
    this.#changed()
    return out
  }

  /** True when this token is the current one of an active or pending agent with this machine key (a re-enrollment adds no machine). */
  isReenrollment (machineKey: string | undefined, agentToken: string | undefined): boolean {
    if (machineKey === undefined || agentToken === undefined) return false
    return this.#isReenrollment.get(hashToken(agentToken), machineKey) !== undefined
  }

  /** Agents that count against the machine cap: not revoked, not rejected. */
  countMachines (): number {
    return (this.#countMachines.get() as { n: number }).n
  }

  /** The highest seq stored (or forgotten by the ledger's pruning) under this agent id; 0 if none. */
  lastSeq (agentId: string): number {
    const r = this.#lastSeq.get({ id: agentId }) as { n: number }
    return r.n
  }

  /** Agents (never their token), newest first; optionally only those in one status. */
  list (status?: AgentStatus, limit = 1000): AgentInfo[] {
    const rows = status === undefined ? this.#list.all(limit) : this.#listByStatus.all(status, limit)
    return rows.map(toAgentInfo)
  }

  /** Lifts a revocation (admin only): the agent's current token works again. False if not revoked, or rejected. */
  unrevoke (agentId: string): boolean {
    const changed = this.#unrevoke.run(agentId).changes === 1
    this.#changed()
    return changed
  }

  /** A pending agent becomes active: its reports are accepted from now on. */
  approve (agentId: string): boolean {
    const changed = this.#approve.run(agentId).changes === 1
    this.#changed()
    return changed
  }

  /** A pending agent is refused for good: its token stops working (it is revoked, and cannot be reinstated). */
  reject (agentId: string, nowMs = Date.now()): boolean {
    const changed = this.#reject.run(nowMs, agentId).changes === 1
    this.#changed()
    return changed
  }

  /** The agent this token belonged to when it is revoked (for a clear refusal), undefined otherwise. */
  findRevoked (token: string): string | undefined {
    return this.#findRevoked.get(hashToken(token))?.id
  }

  find (token: string): AgentPrincipal | undefined {
    const hash = hashToken(token)
    const hit = this.#agentByHash.get(hash)
    if (hit !== undefined) return { ...hit }
    const raw = this.#find.get(hash)
    const row: AgentPrincipal | undefined = raw === undefined ? undefined : { id: raw.id, hostname: raw.hostname, ...(raw.status === 'pending' ? { pending: true } : {}) }
    if (row !== undefined) {
      if (this.#agentByHash.size >= 200_000) this.#agentByHash.clear()
      this.#agentByHash.set(hash, row)
      return { ...row }
    }
    return undefined
  }

  isActive (agentId: string): boolean {
    if (this.#activeAgents.has(agentId)) return true
    const active = this.#isActive.get(agentId) !== undefined
    if (active) {
      if (this.#activeAgents.size >= 200_000) this.#activeAgents.clear()
      this.#activeAgents.add(agentId)
    }
    return active
  }

  #changed (): void {
    this.#agentByHash.clear()
    this.#activeAgents.clear()
  }

  /** The agent's registration (for revocation and rotation), without its token. */
  get (agentId: string): AgentInfo | undefined {
    const r = this.#get.get(agentId)
    return r === undefined ? undefined : toAgentInfo(r)
  }

  /** Gives an active agent a new secret token; returns it and the hash of the one it replaces. */
  rotateToken (agentId: string): { token: string, previousHash: string } | undefined {
    const token = newToken('vga')
    const tx = this.#db.transaction(() => {
      const row = this.#currentHash.get(agentId)
      if (row === undefined) return undefined
      this.#setHash.run(hashToken(token), agentId)
      return { token, previousHash: row.token_hash }
    })
    this.#changed()
    return tx()
  }

  /** Revokes an agent; sticky: no enrollment lifts it, only unrevoke (an admin). */
  revoke (agentId: string, nowMs = Date.now()): boolean {
    const changed = this.#revoke.run(nowMs, agentId).changes === 1
    this.#changed()
    return changed
  }
}
