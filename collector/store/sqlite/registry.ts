/**
 * Machines and the (agent, seq) ledger, in the embedded SQLite database, and the
 * parts the registry composes (registry-parts.ts: inventory).
 * Ingest runs here as one transaction per batch: the seq ledger, the machine's
 * latest state, inventory and the samples (through the metric store) commit
 * together or not at all.
 */
import { LEDGER_MIGRATIONS, migrate, type Db } from './db.js'
import { VigieError } from '../../core/errors.js'
import type { Statement } from 'better-sqlite3'
import type { MetricStore } from '../metric-store.js'
import { LIMITS, type MetricValue, type Report } from '../../../protocol/index.js'
import { LatestValues } from '../latest-values.js'
import { RegistryParts } from './registry-parts.js'
import { reportContentHash } from './report-hash.js'
import type { InventoryChange } from './inventory.js'
import { MACHINE_SELECT, latestValuesOf, machineRow, sameHost, sameUnavailable, toMachine, withFields, type MachineRow, type RawMachine, type SavedFacts } from './machine-rows.js'

export { DEFAULT_INVENTORY_BUDGET, type InventoryChange, type InventoryBudget } from './inventory.js'
export { latestValuesOf, type MachineRow } from './machine-rows.js'
export { reportContentHash } from './report-hash.js'

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

/**
 * A machine's row and latest values are checkpointed at most this often while it
 * reports (and for every machine on close); the row also whenever its facts change.
 * Rewriting a few KB per report was a third of the store's ingest time. After a
 * crash, times and seq come back from the ledger (#recover) and the embedded store
 * rebuilds the latest values from the newest frame; with InfluxDB they are at most
 * this old until the machine's next report.
 */
export const LATEST_CHECKPOINT_MS = 60_000

export class Registry extends RegistryParts {
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
  /** Machines as last written by ingest (the only writer of the table): no row read and JSON parse per batch. */
  readonly #machineCache = new Map<string, MachineRow>()

  constructor (db: Db, metrics: MetricStore) {
    // API-token expiry, its own chain (append only). Tokens created before it keep
    // no expiry (expires_ms NULL): docs/security.md, "Bounds and defences: limits".
    migrate(db, { name: 'api_token_expiry', sql: ['ALTER TABLE api_tokens ADD COLUMN expires_ms INTEGER'] })
    migrate(db, { name: 'ledger', sql: LEDGER_MIGRATIONS })
    super(db)
    this.#db = db
    this.#metrics = metrics
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
        result.inventoryChanges.push(...this.inventory.apply(agentId, report.inventory.apps, atMs))
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