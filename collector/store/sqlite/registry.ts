/**
 * Agents, tokens, machines and the (agent, seq) ledger, in the embedded SQLite
 * database. Ingest runs here as one transaction per batch: the seq ledger, the
 * machine's latest state, inventory and the samples (through the metric store)
 * commit together or not at all.
 */
import { LEDGER_MIGRATIONS, migrate, type Db } from './db.js'
import { VigieError } from '../../core/errors.js'
import type { Statement } from 'better-sqlite3'
import type { MetricStore } from '../metric-store.js'
import { LIMITS, type EnrollHardware, type HostFacts, type InstalledApp, type MetricValue, type Report, type Unavailable } from '../../../protocol/index.js'
import { hashToken, newId, newToken } from '../../core/secrets.js'
import { LatestValues } from '../latest-values.js'

export type Role = 'viewer' | 'technician' | 'admin'

export interface ApiPrincipal { id: string, role: Role, name: string }
export interface AgentPrincipal { id: string, hostname: string, /** enrolled with a known machine key and not yet approved */ pending?: boolean }
export interface ApiTokenInfo { id: string, role: Role, name: string, createdMs: number, revokedMs: number | null, expiresMs: number | null }
export interface EnrollTokenInfo { id: string, name: string, createdMs: number, expiresMs: number | null, maxUses: number | null, uses: number, revokedMs: number | null }
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

export interface MachineRow {
  id: string
  hostname: string
  host: HostFacts
  firstSeenMs: number
  lastSeenMs: number
  lastSampledMs: number
  lastSeq: number
  latest: MetricValue[]
  unavailable: Unavailable[]
  clockSkewMs: number
  droppedReports: number
  inventoryHash: string | null
}

export interface InventoryChange {
  atMs: number
  name: string
  source: string
  from: string | null
  to: string | null
  /** on a summary row only: changes of that report beyond the per-report cap, counted but not recorded */
  omitted?: number
}

/** Bounds on the inventory change history (collector/core/config.ts: VIGIE_INVENTORY_*). */
export interface InventoryBudget {
  /** changes recorded per report; beyond it one summary row counts the rest */
  maxChangesPerReport: number
  /** change rows kept per machine; the oldest are deleted beyond it */
  maxHistoryPerMachine: number
}

export const DEFAULT_INVENTORY_BUDGET: InventoryBudget = { maxChangesPerReport: 2000, maxHistoryPerMachine: 20_000 }

export interface IngestResult {
  stored: number[]
  duplicates: number[]
  /**
   * The reports newly stored, with their corrected sample time, for detection and
   * live; `latest` when the report became its machine's latest values.
   */
  accepted: Array<{ report: Report, atMs: number, latest: LatestValues | undefined }>
  /** inventory changes recorded by this batch */
  inventoryChanges: InventoryChange[]
  /** the machine's state after the batch, when the batch changed it */
  machine?: MachineRow
}

/** A clock off by more than this is corrected with the offset measured at receipt. */
export const CLOCK_SKEW_TOLERANCE_MS = 120_000

interface RawMachine {
  id: string, hostname: string, host_json: string, first_seen_ms: number, last_seen_ms: number,
  last_sampled_ms: number, last_seq: number, latest_json: string, unavailable_json: string,
  clock_skew_ms: number, dropped_reports: number, inventory_hash: string | null,
  /** sample time of the checkpointed latest values (machine_latest), -1 if none */
  latest_ms: number
}

/** Every column of a machine with its checkpointed latest values. */
const MACHINE_SELECT = `SELECT m.id, m.hostname, m.host_json, m.first_seen_ms, m.last_seen_ms, m.last_sampled_ms, m.last_seq,
  m.unavailable_json, m.clock_skew_ms, m.dropped_reports, m.inventory_hash,
  COALESCE(l.latest_json, m.latest_json) AS latest_json, COALESCE(l.latest_ms, -1) AS latest_ms
  FROM machines m LEFT JOIN machine_latest l ON l.machine_id = m.id`

/**
 * A machine's row and latest values are checkpointed at most this often while it
 * reports (and for every machine on close); the row also whenever its facts change.
 * Rewriting a few KB per report was a third of the store's ingest time. After a
 * crash, times and seq come back from the ledger (#recover) and the embedded store
 * rebuilds the latest values from the newest frame; with InfluxDB they are at most
 * this old until the machine's next report.
 */
export const LATEST_CHECKPOINT_MS = 60_000

function toMachine (r: RawMachine, rebuild?: (id: string, atMs: number) => MetricValue[] | undefined): MachineRow {
  const latest = r.latest_ms < r.last_sampled_ms ? rebuild?.(r.id, r.last_sampled_ms) : undefined
  return machineRow({
    id: r.id,
    hostname: r.hostname,
    host: JSON.parse(r.host_json) as HostFacts,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
    lastSampledMs: r.last_sampled_ms,
    lastSeq: r.last_seq,
    unavailable: JSON.parse(r.unavailable_json) as Unavailable[],
    clockSkewMs: r.clock_skew_ms,
    droppedReports: r.dropped_reports,
    inventoryHash: r.inventory_hash
  }, LatestValues.of(latest ?? JSON.parse(r.latest_json) as MetricValue[]))
}

type MachineFields = Omit<MachineRow, 'latest'>

const compactLatest = new WeakMap<MachineRow, LatestValues>()

/**
 * A machine row whose `latest` is built from compact values when read (see
 * latest-values.ts: the cache must not keep each report's metric objects alive).
 */
function machineRow (f: MachineFields, latest: LatestValues): MachineRow {
  const m: MachineRow = {
    id: f.id,
    hostname: f.hostname,
    host: f.host,
    firstSeenMs: f.firstSeenMs,
    lastSeenMs: f.lastSeenMs,
    lastSampledMs: f.lastSampledMs,
    lastSeq: f.lastSeq,
    get latest () { return latest.toArray() },
    unavailable: f.unavailable,
    clockSkewMs: f.clockSkewMs,
    droppedReports: f.droppedReports,
    inventoryHash: f.inventoryHash
  }
  compactLatest.set(m, latest)
  return m
}

/** A row's latest values in their compact form, for readers that need a few of them per report (the fleet list). */
export function latestValuesOf (m: MachineRow): LatestValues {
  return compactLatest.get(m) ?? LatestValues.of(m.latest)
}

/** A copy of a machine row (its compact latest values shared), with some fields changed. */
function withFields (m: MachineRow, patch: Partial<MachineFields>): MachineRow {
  return machineRow({
    id: m.id,
    hostname: m.hostname,
    host: m.host,
    firstSeenMs: m.firstSeenMs,
    lastSeenMs: m.lastSeenMs,
    lastSampledMs: m.lastSampledMs,
    lastSeq: m.lastSeq,
    unavailable: m.unavailable,
    clockSkewMs: m.clockSkewMs,
    droppedReports: m.droppedReports,
    inventoryHash: m.inventoryHash,
    ...patch
  }, latestValuesOf(m))
}

/** Host facts are flat (strings and numbers): equal when every field is. */
function sameHost (a: HostFacts, b: HostFacts): boolean {
  if (a === b) return true
  let n = 0
  for (const k in a) {
    if (a[k as keyof HostFacts] !== b[k as keyof HostFacts]) return false
    n++
  }
  for (const _ in b) n--
  return n === 0
}

function sameUnavailable (a: readonly Unavailable[], b: readonly Unavailable[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i].probe !== b[i].probe || a[i].reason !== b[i].reason) return false
  return true
}

const HASH_F64 = new Float64Array(1)
const HASH_U32 = new Uint32Array(HASH_F64.buffer)

/**
 * A compact hash (FNV-1a, 32 bits) of what a report said: sampledAt and each
 * metric's name and value. Cheap (no string built, no crypto): it only has to tell
 * an identical resend from a different report that reuses a seq.
 */
export function reportContentHash (r: Report): number {
  let h = 0x811c9dc5
  const t = r.sampledAt
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193)
  for (const m of r.metrics) {
    const n = m.name
    for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 0x01000193)
    HASH_F64[0] = m.value
    h = Math.imul(h ^ HASH_U32[0], 0x01000193)
    h = Math.imul(h ^ HASH_U32[1], 0x01000193)
  }
  return h >>> 0
}

/** What a machine row says besides times and values, as last written. */
interface SavedFacts { host: HostFacts, unavailable: Unavailable[], dropped: number, inventoryHash: string | null }

export class Registry {
  readonly #db: Db
  readonly #metrics: MetricStore
  readonly #insertReport: Statement
  readonly #agentPruned: Statement<[string], { pruned_seq: number }>
  readonly #storedHash: Statement<[string, number], { content_hash: number | null }>
  readonly #maxStoredSeq: Statement<[string], { m: number | null }>
  /** per agent, the highest seq stored or forgotten (seq jumps are measured from it) */
  readonly #maxSeq = new Map<string, number>()
  readonly #getMachine: Statement<[string], RawMachine>
  readonly #upsertMachine: Statement
  /** per agent, the highest seq the ledger forgot (changes only in pruneLedger) */
  readonly #prunedSeq = new Map<string, number>()
  /** host facts, unavailable list, dropped count and inventory hash as last written per machine */
  readonly #factsSaved = new Map<string, SavedFacts>()
  readonly #upsertLatest: Statement<[string, number, string], unknown>
  /** when each machine's row and latest values were last checkpointed, and machines with newer state than that */
  readonly #latestSavedAt = new Map<string, number>()
  readonly #latestDirty = new Set<string>()
  /**
   * Active agents by token hash, and active agent ids: every agent request and
   * stream frame asks, so the answers are kept. Only hits are kept (random tokens
   * cannot grow it); any change to the agents table clears both.
   */
  readonly #agentByHash = new Map<string, AgentPrincipal>()
  readonly #activeAgents = new Set<string>()
  /** Machines as last written by ingest (the only writer of the table): no row read and JSON parse per batch. */
  readonly #machineCache = new Map<string, MachineRow>()
  #inventoryBudget: InventoryBudget = DEFAULT_INVENTORY_BUDGET

  constructor (db: Db, metrics: MetricStore) {
    // API-token expiry, its own chain (append only). Tokens created before it keep
    // no expiry (expires_ms NULL): docs/security.md, "Bounds and defences: limits".
    migrate(db, { name: 'api_token_expiry', sql: ['ALTER TABLE api_tokens ADD COLUMN expires_ms INTEGER'] })
    this.#db = db
    this.#metrics = metrics
    migrate(db, { name: 'ledger', sql: LEDGER_MIGRATIONS })
    this.#insertReport = db.prepare('INSERT OR IGNORE INTO reports (agent_id, seq, sampled_ms, received_ms, content_hash) VALUES (?, ?, ?, ?, ?)')
    this.#agentPruned = db.prepare('SELECT pruned_seq FROM agents WHERE id = ?')
    this.#storedHash = db.prepare('SELECT content_hash FROM reports WHERE agent_id = ? AND seq = ?')
    this.#maxStoredSeq = db.prepare('SELECT MAX(seq) AS m FROM reports WHERE agent_id = ?')
    this.#getMachine = db.prepare(`${MACHINE_SELECT} WHERE m.id = ?`)
    this.#upsertLatest = db.prepare(`INSERT INTO machine_latest (machine_id, latest_ms, latest_json) VALUES (?, ?, ?)
      ON CONFLICT(machine_id) DO UPDATE SET latest_ms = excluded.latest_ms, latest_json = excluded.latest_json`)
    this.#upsertMachine = db.prepare(`
      INSERT INTO machines (id, hostname, host_json, first_seen_ms, last_seen_ms, last_sampled_ms, last_seq, latest_json, unavailable_json, clock_skew_ms, dropped_reports, inventory_hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET
        hostname = excluded.hostname, host_json = excluded.host_json, last_seen_ms = excluded.last_seen_ms,
        last_sampled_ms = excluded.last_sampled_ms, last_seq = excluded.last_seq,
        unavailable_json = excluded.unavailable_json, clock_skew_ms = excluded.clock_skew_ms,
        dropped_reports = excluded.dropped_reports, inventory_hash = COALESCE(excluded.inventory_hash, machines.inventory_hash)`)
    this.#recover()
  }

  /* ---- meta ---- */

  getMeta (key: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value
  }

  setMeta (key: string, value: string): void {
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value)
  }

  /* ---- technician API tokens ---- */

  /** Creates a technician API token; `expiresMs` null = never expires (the API and CLI always give one). */
  createApiToken (role: Role, name: string, nowMs = Date.now(), expiresMs: number | null = null): { id: string, token: string, expiresMs: number | null } {
    const id = newId('tok')
    const token = newToken('vgt')
    this.#db.prepare('INSERT INTO api_tokens (id, token_hash, role, name, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)').run(id, hashToken(token), role, name, nowMs, expiresMs)
    return { id, token, expiresMs }
  }

  /** The unrevoked token's principal and expiry (the caller refuses it once expired). */
  findApiToken (token: string): (ApiPrincipal & { expiresMs: number | null }) | undefined {
    const row = this.#db.prepare('SELECT id, role, name, expires_ms FROM api_tokens WHERE token_hash = ? AND revoked_ms IS NULL').get(hashToken(token)) as { id: string, role: Role, name: string, expires_ms: number | null } | undefined
    return row === undefined ? undefined : { id: row.id, role: row.role, name: row.name, expiresMs: row.expires_ms }
  }

  countApiTokens (): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_ms IS NULL').get() as { n: number }).n
  }

  /** Every API token (never its hash or value), newest first. */
  listApiTokens (): ApiTokenInfo[] {
    return (this.#db.prepare('SELECT id, role, name, created_ms, revoked_ms, expires_ms FROM api_tokens ORDER BY created_ms DESC, id').all() as Array<{ id: string, role: Role, name: string, created_ms: number, revoked_ms: number | null, expires_ms: number | null }>)
      .map(r => ({ id: r.id, role: r.role, name: r.name, createdMs: r.created_ms, revokedMs: r.revoked_ms, expiresMs: r.expires_ms }))
  }

  getApiToken (id: string): ApiTokenInfo | undefined {
    const r = this.#db.prepare('SELECT id, role, name, created_ms, revoked_ms, expires_ms FROM api_tokens WHERE id = ?').get(id) as { id: string, role: Role, name: string, created_ms: number, revoked_ms: number | null, expires_ms: number | null } | undefined
    return r === undefined ? undefined : { id: r.id, role: r.role, name: r.name, createdMs: r.created_ms, revokedMs: r.revoked_ms, expiresMs: r.expires_ms }
  }

  /** Revokes an API token at once; false if unknown or already revoked. */
  revokeApiToken (id: string, nowMs = Date.now()): boolean {
    return this.#db.prepare('UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(nowMs, id).changes === 1
  }

  /* ---- enrollment tokens ---- */

  createEnrollToken (opts: { name: string, expiresMs?: number, maxUses?: number, token?: string }, nowMs = Date.now()): { id: string, token: string } {
    const id = newId('enr')
    const token = opts.token ?? newToken('vge')
    this.#db.prepare('INSERT INTO enroll_tokens (id, token_hash, name, created_ms, expires_ms, max_uses) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(token_hash) DO NOTHING')
      .run(id, hashToken(token), opts.name, nowMs, opts.expiresMs ?? null, opts.maxUses ?? null)
    return { id, token }
  }

  /** Every enrollment token (never its hash or value), newest first. */
  listEnrollTokens (): EnrollTokenInfo[] {
    return (this.#db.prepare('SELECT id, name, created_ms, expires_ms, max_uses, uses, revoked_ms FROM enroll_tokens ORDER BY created_ms DESC, id').all() as Array<{ id: string, name: string, created_ms: number, expires_ms: number | null, max_uses: number | null, uses: number, revoked_ms: number | null }>)
      .map(r => ({ id: r.id, name: r.name, createdMs: r.created_ms, expiresMs: r.expires_ms, maxUses: r.max_uses, uses: r.uses, revokedMs: r.revoked_ms }))
  }

  /** Revokes an enrollment token; false if unknown or already revoked. */
  revokeEnrollToken (id: string, nowMs = Date.now()): boolean {
    return this.#db.prepare('UPDATE enroll_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(nowMs, id).changes === 1
  }

  /** Uses one enrollment of the token if it is valid now; false otherwise. Atomic. */
  consumeEnrollToken (token: string, nowMs = Date.now()): boolean {
    const r = this.#db.prepare(`UPDATE enroll_tokens SET uses = uses + 1
      WHERE token_hash = ? AND revoked_ms IS NULL AND (expires_ms IS NULL OR expires_ms > ?) AND (max_uses IS NULL OR uses < max_uses)`)
      .run(hashToken(token), nowMs)
    return r.changes === 1
  }

  /* ---- agents ---- */

  /**
   * Registers an agent and returns its secret token (only its hash is kept).
   * A machine key already known keeps its agent id only when the request proves it
   * is that agent (`agentToken`: its current token); otherwise it is a NEW agent,
   * 'pending' until an admin approves it, flagged with the agents it shares the key
   * with and whether their hardware differs (a cloned image). Re-enrollment never
   * lifts a revocation. `lastSeq` is the highest seq stored under the id.
   */
  enrollAgent (opts: { hostname: string, machineKey?: string, hardware?: EnrollHardware, agentToken?: string }, nowMs = Date.now()): EnrollOutcome {
    const token = newToken('vga')
    const hardware = opts.hardware === undefined ? null : JSON.stringify({ ...opts.hardware, hostname: opts.hostname })
    const tx = this.#db.transaction((): EnrollOutcome => {
      if (opts.machineKey !== undefined && opts.agentToken !== undefined) {
        const same = this.#db.prepare('SELECT id, status FROM agents WHERE token_hash = ? AND machine_key = ? AND revoked_ms IS NULL').get(hashToken(opts.agentToken), opts.machineKey) as { id: string, status: AgentStatus } | undefined
        if (same !== undefined && same.status !== 'rejected') {
          this.#db.prepare('UPDATE agents SET token_hash = ?, hostname = ?, hardware_json = COALESCE(?, hardware_json) WHERE id = ?').run(hashToken(token), opts.hostname, hardware, same.id)
          return { agentId: same.id, token, status: same.status, reenrolled: true, lastSeq: this.lastSeq(same.id) }
        }
      }
      const sharing = opts.machineKey === undefined
        ? []
        : this.#db.prepare('SELECT id, hardware_json FROM agents WHERE machine_key = ? ORDER BY created_ms LIMIT 20').all(opts.machineKey) as Array<{ id: string, hardware_json: string | null }>
      const id = newId('m')
      let identity: AgentIdentityFlag | undefined
      if (sharing.length > 0) {
        // A clone differs from every machine with the key; the same hardware as one of them is a reinstall (or an impersonation).
        const differs = sharing.every(r => hardwareDiffers(r.hardware_json, hardware))
        identity = { machineKeySharedWith: sharing.map(r => r.id), hardwareDiffers: differs }
      }
      this.#db.prepare('INSERT INTO agents (id, token_hash, machine_key, hostname, created_ms, status, hardware_json, identity_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, hashToken(token), opts.machineKey ?? null, opts.hostname, nowMs, identity === undefined ? 'active' : 'pending', hardware, identity === undefined ? null : JSON.stringify(identity))
      return { agentId: id, token, status: identity === undefined ? 'active' : 'pending', reenrolled: false, lastSeq: 0, ...(identity !== undefined ? { identity } : {}) }
    })
    const out = tx()
    this.#agentsChanged()
    return out
  }

  /** True when this token is the current one of an active or pending agent with this machine key (a re-enrollment adds no machine). */
  isReenrollment (machineKey: string | undefined, agentToken: string | undefined): boolean {
    if (machineKey === undefined || agentToken === undefined) return false
    return this.#db.prepare("SELECT 1 FROM agents WHERE token_hash = ? AND machine_key = ? AND revoked_ms IS NULL AND status != 'rejected'").get(hashToken(agentToken), machineKey) !== undefined
  }

  /** Agents that count against the machine cap: not revoked, not rejected. */
  countMachines (): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM agents WHERE revoked_ms IS NULL').get() as { n: number }).n
  }

  /** The highest seq stored (or forgotten by the ledger's pruning) under this agent id; 0 if none. */
  lastSeq (agentId: string): number {
    const r = this.#db.prepare(`SELECT MAX(
      COALESCE((SELECT MAX(seq) FROM reports WHERE agent_id = @id), 0),
      COALESCE((SELECT pruned_seq FROM agents WHERE id = @id), 0),
      COALESCE((SELECT last_seq FROM machines WHERE id = @id), 0)) AS n`).get({ id: agentId }) as { n: number }
    return r.n
  }

  /** Agents (never their token), newest first; optionally only those in one status. */
  listAgents (status?: AgentStatus, limit = 1000): AgentInfo[] {
    const rows = (status === undefined
      ? this.#db.prepare(`${AGENT_SELECT} ORDER BY created_ms DESC, id LIMIT ?`).all(limit)
      : this.#db.prepare(`${AGENT_SELECT} WHERE status = ? ORDER BY created_ms DESC, id LIMIT ?`).all(status, limit)) as RawAgent[]
    return rows.map(toAgentInfo)
  }

  /** Lifts a revocation (admin only): the agent's current token works again. False if not revoked, or rejected. */
  unrevokeAgent (agentId: string): boolean {
    const changed = this.#db.prepare("UPDATE agents SET revoked_ms = NULL WHERE id = ? AND revoked_ms IS NOT NULL AND status != 'rejected'").run(agentId).changes === 1
    this.#agentsChanged()
    return changed
  }

  /** A pending agent becomes active: its reports are accepted from now on. */
  approveAgent (agentId: string): boolean {
    const changed = this.#db.prepare("UPDATE agents SET status = 'active' WHERE id = ? AND status = 'pending' AND revoked_ms IS NULL").run(agentId).changes === 1
    this.#agentsChanged()
    return changed
  }

  /** A pending agent is refused for good: its token stops working (it is revoked, and cannot be reinstated). */
  rejectAgent (agentId: string, nowMs = Date.now()): boolean {
    const changed = this.#db.prepare("UPDATE agents SET status = 'rejected', revoked_ms = ? WHERE id = ? AND status = 'pending' AND revoked_ms IS NULL").run(nowMs, agentId).changes === 1
    this.#agentsChanged()
    return changed
  }

  /** The agent this token belonged to when it is revoked (for a clear refusal), undefined otherwise. */
  findRevokedAgent (token: string): string | undefined {
    return (this.#db.prepare('SELECT id FROM agents WHERE token_hash = ? AND revoked_ms IS NOT NULL').get(hashToken(token)) as { id: string } | undefined)?.id
  }

  findAgent (token: string): AgentPrincipal | undefined {
    const hash = hashToken(token)
    const hit = this.#agentByHash.get(hash)
    if (hit !== undefined) return { ...hit }
    const raw = this.#db.prepare('SELECT id, hostname, status FROM agents WHERE token_hash = ? AND revoked_ms IS NULL').get(hash) as { id: string, hostname: string, status: AgentStatus } | undefined
    const row: AgentPrincipal | undefined = raw === undefined ? undefined : { id: raw.id, hostname: raw.hostname, ...(raw.status === 'pending' ? { pending: true } : {}) }
    if (row !== undefined) {
      if (this.#agentByHash.size >= 200_000) this.#agentByHash.clear()
      this.#agentByHash.set(hash, row)
      return { ...row }
    }
    return undefined
  }

  isAgentActive (agentId: string): boolean {
    if (this.#activeAgents.has(agentId)) return true
    const active = this.#db.prepare("SELECT 1 FROM agents WHERE id = ? AND revoked_ms IS NULL AND status = 'active'").get(agentId) !== undefined
    if (active) {
      if (this.#activeAgents.size >= 200_000) this.#activeAgents.clear()
      this.#activeAgents.add(agentId)
    }
    return active
  }

  #agentsChanged (): void {
    this.#agentByHash.clear()
    this.#activeAgents.clear()
  }

  /** The agent's registration (for revocation and rotation), without its token. */
  getAgent (agentId: string): AgentInfo | undefined {
    const r = this.#db.prepare(`${AGENT_SELECT} WHERE id = ?`).get(agentId) as RawAgent | undefined
    return r === undefined ? undefined : toAgentInfo(r)
  }

  /** Gives an active agent a new secret token; returns it and the hash of the one it replaces. */
  rotateAgentToken (agentId: string): { token: string, previousHash: string } | undefined {
    const token = newToken('vga')
    const tx = this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT token_hash FROM agents WHERE id = ? AND revoked_ms IS NULL').get(agentId) as { token_hash: string } | undefined
      if (row === undefined) return undefined
      this.#db.prepare('UPDATE agents SET token_hash = ? WHERE id = ?').run(hashToken(token), agentId)
      return { token, previousHash: row.token_hash }
    })
    this.#agentsChanged()
    return tx()
  }

  /** Revokes an agent; sticky: no enrollment lifts it, only unrevokeAgent (an admin). */
  revokeAgent (agentId: string, nowMs = Date.now()): boolean {
    const changed = this.#db.prepare('UPDATE agents SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(nowMs, agentId).changes === 1
    this.#agentsChanged()
    return changed
  }

  /* ---- ingest ---- */

  /**
   * Stores each report of the batch once: a `(agent, seq)` seen before is a
   * duplicate and changes nothing. One transaction; throws (and stores nothing)
   * if the database cannot write, e.g. on a full disk.
   */
  ingest (agentId: string, reports: readonly Report[], receivedMs: number): IngestResult {
    const run = this.#db.transaction((): IngestResult => this.#ingestBody(agentId, reports, receivedMs))
    let result: IngestResult
    try {
      result = run()
    } catch (err) {
      // The cached rows may be ahead of what rolled back.
      this.#forget([agentId])
      throw err
    }
    return result
  }

  /** The body of one agent's batch, inside the caller's transaction. Keeps the machine cache current as it goes. */
  #ingestBody (agentId: string, reports: readonly Report[], receivedMs: number): IngestResult {
    const result: IngestResult = { stored: [], duplicates: [], accepted: [], inventoryChanges: [] }
    let prunedSeq = this.#prunedSeq.get(agentId)
    if (prunedSeq === undefined) {
      prunedSeq = this.#agentPruned.get(agentId)?.pruned_seq ?? 0
      this.#prunedSeq.set(agentId, prunedSeq)
    }
    let maxSeq = this.#maxSeq.get(agentId)
    if (maxSeq === undefined) maxSeq = Math.max(prunedSeq, this.#maxStoredSeq.get(agentId)?.m ?? 0)
    let machine = this.#cachedMachine(agentId)
    for (let i = 0; i < reports.length; i++) {
      const report = reports[i]
      const sampledMs = Date.parse(report.sampledAt)
      const skew = receivedMs - Date.parse(report.agentClock)
      const atMs = Math.abs(skew) > CLOCK_SKEW_TOLERANCE_MS ? sampledMs + skew : sampledMs
      if (report.seq > maxSeq + LIMITS.maxSeqJump) {
        // A seq far above anything stored would make every later report look old
        // (and, once the ledger is pruned, a duplicate): refuse it.
        throw new VigieError('VIGIE_ERR_SEQ_JUMP', `report ${i}: seq ${report.seq} is more than ${LIMITS.maxSeqJump} above the highest seq known for this agent (${maxSeq})`, { path: `/reports/${i}/seq` })
      }
      if (report.seq <= prunedSeq) {
        // The ledger forgot this seq: nothing to compare with; an ancient resend.
        result.duplicates.push(report.seq)
        continue
      }
      const hash = reportContentHash(report)
      if (this.#insertReport.run(agentId, report.seq, atMs, receivedMs, hash).changes === 0) {
        const stored = this.#storedHash.get(agentId, report.seq)?.content_hash ?? null
        if (stored !== null && stored !== hash) {
          throw new VigieError('VIGIE_ERR_SEQ_CONFLICT', `report ${i}: seq ${report.seq} is already stored with different content (sampledAt or metric values differ); refused, not acknowledged`, { path: `/reports/${i}/seq` })
        }
        result.duplicates.push(report.seq)
        continue
      }
      if (report.seq > maxSeq) maxSeq = report.seq
      result.stored.push(report.seq)
      const accepted = { report, atMs, latest: undefined as LatestValues | undefined }
      result.accepted.push(accepted)
      if (report.metrics.length > 0) this.#metrics.appendReport(agentId, atMs, report.metrics)
      if (report.inventory?.apps !== undefined) {
        result.inventoryChanges.push(...this.#applyInventory(agentId, report.inventory.apps, atMs))
      }
      const newer = machine === undefined || atMs >= machine.lastSampledMs
      if (newer) {
        // The row is rewritten when what it says changed (host facts, probes unavailable,
        // dropped count, inventory) and otherwise at most every LATEST_CHECKPOINT_MS:
        // times and seq are recovered from the ledger after a crash (#recover). Facts
        // that did not change keep the objects already held, so the report's die young.
        const dropped = report.droppedReports ?? machine?.droppedReports ?? 0
        const inventoryHash = report.inventory?.hash ?? machine?.inventoryHash ?? null
        const latest = LatestValues.of(report.metrics, machine === undefined ? undefined : latestValuesOf(machine))
        accepted.latest = latest
        const saved = this.#factsSaved.get(agentId)
        const sameFacts = saved !== undefined && saved.dropped === dropped && saved.inventoryHash === inventoryHash &&
          sameHost(saved.host, report.host) && sameUnavailable(saved.unavailable, report.unavailable)
        const host = sameFacts ? saved.host : report.host
        const unavailable = sameFacts ? saved.unavailable : report.unavailable
        machine = machineRow({
          id: agentId,
          hostname: host.hostname,
          host,
          firstSeenMs: machine?.firstSeenMs ?? receivedMs,
          lastSeenMs: receivedMs,
          lastSampledMs: atMs,
          lastSeq: report.seq,
          unavailable,
          clockSkewMs: skew,
          droppedReports: dropped,
          inventoryHash
        }, latest)
        const savedAt = this.#latestSavedAt.get(agentId)
        const due = savedAt === undefined || receivedMs - savedAt >= LATEST_CHECKPOINT_MS
        if (due || !sameFacts) {
          this.#upsertMachine.run(agentId, host.hostname, JSON.stringify(host), machine.firstSeenMs, receivedMs, atMs, report.seq, JSON.stringify(unavailable), Math.round(skew), dropped, report.inventory?.hash ?? null)
          if (!sameFacts) this.#factsSaved.set(agentId, { host, unavailable, dropped, inventoryHash })
        }
        if (due) {
          this.#upsertLatest.run(agentId, atMs, JSON.stringify(machine.latest))
          this.#latestSavedAt.set(agentId, receivedMs)
          this.#latestDirty.delete(agentId)
        } else {
          this.#latestDirty.add(agentId)
        }
      } else if (machine !== undefined) {
        machine = withFields(machine, { lastSeenMs: receivedMs, clockSkewMs: Math.round(skew) })
        this.#latestDirty.add(agentId)
      }
    }
    this.#maxSeq.set(agentId, maxSeq)
    if (machine !== undefined && result.stored.length > 0) {
      result.machine = machine
      this.#machineCache.set(agentId, machine)
    }
    return result
  }

  /**
   * After a crash, machine rows can lag the ledger by up to a checkpoint interval
   * (plus the timer's period): bring their last-seen time, last sample and seq up
   * to date from the reports received since. An index range scan of the last few
   * minutes, nothing when the previous stop was clean.
   */
  #recover (): void {
    const newest = this.#db.prepare('SELECT MAX(received_ms) FROM reports').pluck().get() as number | null
    if (newest === null) return
    const rows = this.#db.prepare('SELECT agent_id, seq, sampled_ms, received_ms FROM reports WHERE received_ms >= ? ORDER BY received_ms')
      .all(newest - 3 * LATEST_CHECKPOINT_MS) as Array<{ agent_id: string, seq: number, sampled_ms: number, received_ms: number }>
    const update = this.#db.prepare(`UPDATE machines SET last_seen_ms = MAX(last_seen_ms, @received),
      last_seq = CASE WHEN @sampled >= last_sampled_ms THEN @seq ELSE last_seq END,
      last_sampled_ms = MAX(last_sampled_ms, @sampled) WHERE id = @id`)
    this.#db.transaction(() => {
      for (const r of rows) update.run({ id: r.agent_id, received: r.received_ms, sampled: r.sampled_ms, seq: r.seq })
    })()
  }

  /** After a rollback: cached state of these agents may be ahead of the database. */
  #forget (agentIds: readonly string[]): void {
    for (const id of agentIds) { this.#machineCache.delete(id); this.#latestSavedAt.delete(id); this.#factsSaved.delete(id); this.#maxSeq.delete(id) }
    this.#metrics.discardCache?.(agentIds)
  }

  /**
   * Checkpoints the row and latest values of machines that changed since their last
   * checkpoint at least `minAgeMs` ago (0: all of them, on close).
   */
  flushLatest (minAgeMs = 0, nowMs = Date.now()): number {
    const due: MachineRow[] = []
    for (const id of this.#latestDirty) {
      if (nowMs - (this.#latestSavedAt.get(id) ?? 0) < minAgeMs) continue
      const m = this.#machineCache.get(id)
      if (m !== undefined) due.push(m)
    }
    if (due.length === 0) return 0
    this.#db.transaction(() => {
      for (const m of due) {
        this.#upsertMachine.run(m.id, m.hostname, JSON.stringify(m.host), m.firstSeenMs, m.lastSeenMs, m.lastSampledMs, m.lastSeq, JSON.stringify(m.unavailable), Math.round(m.clockSkewMs), m.droppedReports, m.inventoryHash)
        this.#upsertLatest.run(m.id, m.lastSampledMs, JSON.stringify(m.latest))
      }
    })()
    for (const m of due) { this.#latestDirty.delete(m.id); this.#latestSavedAt.set(m.id, nowMs) }
    return due.length
  }

  #rebuild = (id: string, atMs: number): MetricValue[] | undefined => this.#metrics.latestAt?.(id, atMs)

  #cachedMachine (id: string): MachineRow | undefined {
    let m = this.#machineCache.get(id)
    if (m === undefined) {
      const r = this.#getMachine.get(id)
      if (r === undefined) return undefined
      m = toMachine(r, this.#rebuild)
      this.#machineCache.set(id, m)
    }
    // Never changed in place: ingest replaces it with a new row.
    return m
  }

  /**
   * Group commit: several agents' batches in one outer transaction (each one a
   * savepoint, so a failing batch rolls back alone). Amortises the commit over
   * everything that arrived in the same event-loop turn. Returns, per item, its
   * result or the error that kept it from being stored; throws (nothing stored)
   * only if the outer commit fails.
   */
  ingestMany (items: ReadonlyArray<{ agentId: string, reports: readonly Report[] }>, receivedMs: number): Array<IngestResult | Error> {
    // Fast path: the whole group in one transaction, no savepoint per batch (those
    // were a third of the store's time). If any batch fails, everything rolls back
    // and the group is redone with a savepoint per batch, so a failing batch still
    // fails alone.
    let results: IngestResult[] | undefined
    try {
      results = this.#db.transaction(() => items.map(it => this.#ingestBody(it.agentId, it.reports, receivedMs)))()
    } catch {
      this.#forget(items.map(it => it.agentId))
    }
    if (results !== undefined) return results
    const run = this.#db.transaction((): Array<IngestResult | Error> => items.map(it => {
      try { return this.ingest(it.agentId, it.reports, receivedMs) } catch (err) { return err as Error }
    }))
    try {
      return run()
    } catch (err) {
      // Nothing of the group was committed: forget the cached rows it touched.
      this.#forget(items.map(it => it.agentId))
      throw err
    }
  }

  /** Sets the inventory history bounds (collector/app.ts, from the configuration). */
  setInventoryBudget (budget: Partial<InventoryBudget>): void {
    this.#inventoryBudget = { ...this.#inventoryBudget, ...budget }
  }

  /**
   * Applies one report's inventory. The inventory itself always becomes what the
   * report says; the change history is bounded: at most `maxChangesPerReport` rows
   * per report (the first ones, in report order, then removals), plus one summary
   * row (empty name, `omitted` = how many more) when there were more, and at most
   * `maxHistoryPerMachine` rows per machine (the oldest deleted). Returns the
   * changes recorded.
   */
  #applyInventory (machineId: string, apps: readonly InstalledApp[], atMs: number): InventoryChange[] {
    const current = this.#db.prepare('SELECT name, source, version FROM inventory WHERE machine_id = ?').all(machineId) as Array<{ name: string, source: string, version: string }>
    const before = new Map(current.map(a => [a.name + '\0' + a.source, a.version]))
    const after = new Map<string, InstalledApp>()
    for (const a of apps) after.set(a.name + '\0' + (a.source ?? ''), a)
    const changes: InventoryChange[] = []
    const first = current.length === 0
    const { maxChangesPerReport, maxHistoryPerMachine } = this.#inventoryBudget
    let omitted = 0
    const upsert = this.#db.prepare(`INSERT INTO inventory (machine_id, name, source, version, since_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(machine_id, name, source) DO UPDATE SET version = excluded.version, since_ms = excluded.since_ms`)
    const del = this.#db.prepare('DELETE FROM inventory WHERE machine_id = ? AND name = ? AND source = ?')
    const log = this.#db.prepare('INSERT INTO inventory_changes (machine_id, at_ms, name, source, from_version, to_version) VALUES (?, ?, ?, ?, ?, ?)')
    const record = (c: InventoryChange): void => {
      if (changes.length >= maxChangesPerReport) { omitted++; return }
      log.run(machineId, atMs, c.name, c.source, c.from, c.to)
      changes.push(c)
    }
    for (const [key, app] of after) {
      const old = before.get(key)
      if (old === app.version) continue
      upsert.run(machineId, app.name, app.source ?? '', app.version, atMs)
      if (!first) record({ atMs, name: app.name, source: app.source ?? '', from: old ?? null, to: app.version })
    }
    for (const [key, version] of before) {
      if (after.has(key)) continue
      const [name, source] = key.split('\0')
      del.run(machineId, name, source)
      record({ atMs, name, source, from: version, to: null })
    }
    if (omitted > 0) {
      this.#db.prepare("INSERT INTO inventory_changes (machine_id, at_ms, name, source, from_version, to_version, omitted) VALUES (?, ?, '', '', NULL, NULL, ?)")
        .run(machineId, atMs, omitted)
    }
    if (changes.length > 0) {
      // Keep the newest maxHistoryPerMachine rows of this machine (index machine_id, id).
      const edge = this.#db.prepare('SELECT id FROM inventory_changes WHERE machine_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
        .get(machineId, maxHistoryPerMachine) as { id: number } | undefined
      if (edge !== undefined) this.#db.prepare('DELETE FROM inventory_changes WHERE machine_id = ? AND id <= ?').run(machineId, edge.id)
    }
    return changes
  }

  /** Deletes inventory change history older than `beforeMs` (the hourly retention prune). Returns rows deleted. */
  pruneInventoryChanges (beforeMs: number): number {
    return this.#db.prepare('DELETE FROM inventory_changes WHERE at_ms < ?').run(beforeMs).changes
  }

  /** Inventory change rows stored for one machine. */
  countInventoryChanges (machineId: string): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM inventory_changes WHERE machine_id = ?').get(machineId) as { n: number }).n
  }

  /* ---- machines ---- */

  listMachines (): MachineRow[] {
    return (this.#db.prepare(`${MACHINE_SELECT} ORDER BY m.hostname, m.id`).all() as RawMachine[]).map(r => toMachine(r, this.#rebuild))
  }

  getMachine (id: string): MachineRow | undefined {
    const cached = this.#machineCache.get(id)
    if (cached !== undefined) return withFields(cached, {})
    const r = this.#getMachine.get(id)
    return r === undefined ? undefined : toMachine(r, this.#rebuild)
  }

  countStoredReports (agentId: string): number {
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM reports WHERE agent_id = ?').get(agentId) as { n: number }).n
  }

  getInventory (machineId: string): InstalledApp[] {
    return this.#db.prepare('SELECT name, version, source FROM inventory WHERE machine_id = ? ORDER BY name').all(machineId) as InstalledApp[]
  }

  /** Machines with an application installed (name matched case-insensitively), optionally at a version prefix. */
  machinesWithSoftware (name: string, version?: string): string[] {
    const rows = version === undefined || version === ''
      ? this.#db.prepare('SELECT DISTINCT machine_id FROM inventory WHERE name = ? COLLATE NOCASE').all(name)
      : this.#db.prepare("SELECT DISTINCT machine_id FROM inventory WHERE name = ? COLLATE NOCASE AND version LIKE ? ESCAPE '\\'").all(name, version.replace(/[%_\\]/g, m => '\\' + m) + '%')
    return (rows as Array<{ machine_id: string }>).map(r => r.machine_id)
  }

  getInventoryChanges (machineId: string, limit = 200): InventoryChange[] {
    return (this.#db.prepare('SELECT at_ms, name, source, from_version, to_version, omitted FROM inventory_changes WHERE machine_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?')
      .all(machineId, limit) as Array<{ at_ms: number, name: string, source: string, from_version: string | null, to_version: string | null, omitted: number | null }>)
      .map(r => ({ atMs: r.at_ms, name: r.name, source: r.source, from: r.from_version, to: r.to_version, ...(r.omitted !== null ? { omitted: r.omitted } : {}) }))
  }

  /**
   * Forgets the seq ledger older than `beforeMs`, remembering per agent the highest
   * seq forgotten, so an ancient resend is still recognised as a duplicate.
   */
  pruneLedger (beforeMs: number): number {
    this.#prunedSeq.clear()
    const tx = this.#db.transaction(() => {
      this.#db.prepare(`UPDATE agents SET pruned_seq = MAX(pruned_seq, COALESCE((SELECT MAX(seq) FROM reports WHERE reports.agent_id = agents.id AND received_ms < ?), 0))`).run(beforeMs)
      return this.#db.prepare('DELETE FROM reports WHERE received_ms < ?').run(beforeMs).changes
    })
    return tx()
  }
}
