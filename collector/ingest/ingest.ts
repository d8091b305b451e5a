/**
 * The ingest path shared by the HTTP batch route and the WebSocket stream:
 * auth already done → each report must name the token's agent → stored once per
 * (agent, seq) in one transaction → announced to detection and live.
 */
import type { Report } from '../../protocol/index.js'
import { storageFailure, storageMessage } from '../core/storage-errors.js'
import { VigieError } from '../core/errors.js'
import type { IngestResult, MachineRow, Registry } from '../store/sqlite/registry.js'
import type { MetricStore } from '../store/metric-store.js'
import type { CollectorEvents } from './events.js'
import type { Counters } from '../core/counters.js'
import { CLOCK_SKEW_TOLERANCE_MS } from '../store/sqlite/registry.js'
import { closeReports } from './closed.js'

/** The window of times a report may carry (docs/security.md, "Bounds and defences: input"). */
export interface TimeWindow {
  /** a sample older than this (after clock-skew correction) is refused, ms */
  maxSampleAgeMs: number
  /** a sample further ahead than this (after clock-skew correction) is refused, ms */
  sampleFutureMs: number
  /** an agentClock further than this from the collector clock is refused, ms */
  maxClockSkewMs: number
}

export const DEFAULT_TIME_WINDOW: TimeWindow = { maxSampleAgeMs: 78 * 3_600_000, sampleFutureMs: 600_000, maxClockSkewMs: 168 * 3_600_000 }

/** Date.parse that refuses what it would silently misread: leap seconds (":60") and unparsable text give NaN. */
function parseTime (text: string): number {
  return Date.parse(text)
}

export interface IngestOutcome {
  stored: number[]
  duplicates: number[]
}

export class IngestService {
  readonly #registry: Registry
  readonly #metrics: MetricStore
  readonly #events: CollectorEvents
  readonly #counters: Counters
  readonly #now: () => number
  readonly #window: TimeWindow
  #queue: Array<{ agentId: string, reports: readonly Report[], resolve: (o: IngestOutcome) => void, reject: (e: Error) => void }> = []
  #flushScheduled: NodeJS.Immediate | undefined

  readonly #dbFile: string
  readonly #fleet: { upsert: (m: MachineRow) => void } | undefined

  constructor (opts: { registry: Registry, /** the in-memory fleet list, told of each committed machine change */ fleet?: { upsert: (m: MachineRow) => void }, metrics: MetricStore, events: CollectorEvents, counters: Counters, now?: () => number, timeWindow?: TimeWindow, /** the database file, named in storage errors */ dbFile?: string }) {
    this.#dbFile = opts.dbFile ?? 'vigie.db'
    this.#window = opts.timeWindow ?? DEFAULT_TIME_WINDOW
    this.#registry = opts.registry
    this.#fleet = opts.fleet
    this.#metrics = opts.metrics
    this.#events = opts.events
    this.#counters = opts.counters
    this.#now = opts.now ?? Date.now
  }

  /**
   * Stores a batch from one authenticated agent. Throws VigieError (and stores
   * nothing) when a report names another agent or the store cannot take writes.
   */
  ingest (agentId: string, sent: readonly Report[]): IngestOutcome {
    this.#check(agentId, sent)
    const reports = closeReports(sent)
    const receivedMs = this.#now()
    let result
    try {
      result = this.#registry.ingest(agentId, reports, receivedMs)
    } catch (err) {
      throw this.#storeError(err)
    }
    // After the commit, synchronously: the fleet list is current before live and detection see the batch.
    if (result.machine !== undefined) this.#fleet?.upsert(result.machine)
    return this.#announce(agentId, receivedMs, result)
  }

  /**
   * The same as `ingest`, with group commit: batches that arrive in the same
   * event-loop turn are stored in one transaction (one commit instead of one per
   * request), then each caller gets its own outcome or error. Resolves only after
   * the commit, so an acknowledgement still means "durable".
   */
  ingestQueued (agentId: string, sent: readonly Report[]): Promise<IngestOutcome> {
    let reports: Report[]
    try {
      this.#check(agentId, sent)
      reports = closeReports(sent)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ agentId, reports, resolve, reject })
      if (this.#flushScheduled === undefined) this.#flushScheduled = setImmediate(() => { this.#flush() })
    })
  }

  #flush (): void {
    this.#flushScheduled = undefined
    const items = this.#queue
    this.#queue = []
    if (items.length === 0) return
    const receivedMs = this.#now()
    let results: Array<IngestResult | Error>
    try {
      results = this.#registry.ingestMany(items, receivedMs)
    } catch (err) {
      const e = this.#storeError(err)
      for (const it of items) it.reject(e)
      return
    }
    for (let i = 0; i < items.length; i++) {
      const r = results[i]
      if (r instanceof Error) { items[i].reject(this.#storeError(r)); continue }
      if (r.machine !== undefined) this.#fleet?.upsert(r.machine)
      try { items[i].resolve(this.#announce(items[i].agentId, receivedMs, r)) } catch (err) { items[i].reject(err as Error) }
    }
  }

  #check (agentId: string, reports: readonly Report[]): void {
    this.#counters.inc('reports_received', reports.length)
    for (let i = 0; i < reports.length; i++) {
      if (reports[i].agentId !== agentId) {
        this.#counters.inc('reports_rejected', reports.length)
        throw new VigieError('VIGIE_ERR_AGENT_MISMATCH', `report ${i} (seq ${reports[i].seq}) names agent ${reports[i].agentId}, but the token belongs to ${agentId}`, { path: `/reports/${i}/agentId` })
      }
    }
    this.#checkTimes(reports)
    if (this.#metrics.status().accepting === false) {
      // The metric buffer is full: refuse rather than drop. Agents keep the data and retry.
      this.#counters.inc('reports_rejected', reports.length)
      throw new VigieError('VIGIE_ERR_STORE_UNAVAILABLE', 'metric buffer is full; retry later', { headers: { 'retry-after': '30' } })
    }
  }

  /**
   * Each report's times within the documented window, or the batch is refused with
   * VIGIE_ERR_TIME_INVALID (400: the agent drops that report rather than retry it).
   * A report the store would misread (NaN) or that would hold the machine's latest
   * values (a sample from the future) never reaches it.
   */
  #checkTimes (reports: readonly Report[]): void {
    const now = this.#now()
    const w = this.#window
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i]
      const sampled = parseTime(r.sampledAt)
      const clock = parseTime(r.agentClock)
      let why: string | undefined
      let field = 'sampledAt'
      if (Number.isNaN(clock)) { why = `agentClock ${r.agentClock} is not a usable time (leap seconds are not accepted)`; field = 'agentClock' } else if (Number.isNaN(sampled)) why = `sampledAt ${r.sampledAt} is not a usable time (leap seconds are not accepted)`
      else if (Math.abs(now - clock) > w.maxClockSkewMs) { why = `agentClock ${r.agentClock} is more than ${w.maxClockSkewMs / 3_600_000} h from the collector clock`; field = 'agentClock' } else {
        const skew = now - clock
        const at = Math.abs(skew) > CLOCK_SKEW_TOLERANCE_MS ? sampled + skew : sampled
        if (at > now + w.sampleFutureMs) why = `sampledAt ${r.sampledAt} is ${Math.round((at - now) / 1000)} s in the future (limit ${w.sampleFutureMs / 1000} s)`
        else if (at < now - w.maxSampleAgeMs) why = `sampledAt ${r.sampledAt} is older than ${w.maxSampleAgeMs / 3_600_000} h`
      }
      if (why !== undefined) {
        this.#counters.inc('reports_rejected', reports.length)
        throw new VigieError('VIGIE_ERR_TIME_INVALID', `report ${i} (seq ${r.seq}): ${why}`, { path: `/reports/${i}/${field}` })
      }
    }
  }

  #storeError (err: unknown): VigieError {
    // A refusal the store decided (seq conflict, seq jump) is the agent's answer, not a store failure.
    if (err instanceof VigieError) return err
    this.#counters.inc('store_errors', 1)
    // Named as on every other route (collector/core/storage-errors.ts): the stream's
    // error frames carry this message, the HTTP handler rewrites it the same way.
    const f = storageFailure(err)
    const message = f !== undefined ? `${storageMessage(f, this.#dbFile)}; nothing was stored` : 'store error; nothing was stored, retry later'
    return new VigieError('VIGIE_ERR_STORE_UNAVAILABLE', message, { cause: err, headers: { 'retry-after': '30' } })
  }

  #announce (agentId: string, receivedMs: number, result: IngestResult): IngestOutcome {
    this.#counters.inc('reports_stored', result.stored.length)
    this.#counters.inc('reports_duplicate', result.duplicates.length)
    if (result.accepted.length > 0) {
      this.#events.emit('reports', { machineId: agentId, receivedMs, accepted: result.accepted, inventoryChanges: result.inventoryChanges })
    }
    return { stored: result.stored, duplicates: result.duplicates }
  }
}
