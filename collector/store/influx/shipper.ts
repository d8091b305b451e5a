/**
 * The InfluxDB store's background shipper: it sends the durable SQLite outbox
 * to InfluxDB in order, in batches (`batchSize` points, or whatever is there
 * every `flushIntervalMs`), and removes rows only after InfluxDB acknowledged
 * them. While InfluxDB is down or refusing, it backs off exponentially (with
 * jitter) and the outbox grows up to `maxBacklog`; past that, `reserve` throws
 * VIGIE_ERR_METRIC_BACKLOG_FULL so the ingest route answers 503 and agents keep
 * the reports in their own spool. It also owns the store's health: the last
 * failure, whether the schema is in place, when InfluxDB last answered.
 *
 * A re-sent batch (acknowledgement lost) is harmless: InfluxDB keeps one value
 * per series and timestamp, so replays overwrite rather than duplicate.
 */
import type { IPoint } from 'influx'
import type { MetricStoreStatus, SamplePoint } from '../metric-store.js'
import type { MetricOutbox, OutboxRow } from '../sqlite/outbox.js'
import { describeFailure, type Failure } from './connection.js'
import { MetricStoreError } from './errors.js'
import { execRaw, type InfluxLink } from './link.js'
import { repairPending, repairsFor } from './repair.js'
import { RP_RAW, ident, lineMeasurement, toTags } from './schema.js'
import { ensureSchema, type SchemaHealth, type SchemaSettings } from './schema-setup.js'

export interface ShipperSettings extends SchemaSettings {
  flushIntervalMs: number
  batchSize: number
  maxBacklog: number
  backoffInitialMs: number
  backoffMaxMs: number
}

/** How long an idle, healthy store goes without talking to InfluxDB before it pings. */
const IDLE_PING_MS = 15_000

export class InfluxShipper {
  readonly #link: InfluxLink
  readonly #outbox: MetricOutbox
  readonly #s: ShipperSettings
  readonly #health: SchemaHealth

  #started = false
  #closing = false
  #loop: Promise<void> | undefined
  #schemaReady = false
  /** last failure, cleared on the next success */
  #failure: Failure | undefined
  #backoffMs = 0
  #lastContactMs = 0
  #wake: (() => void) | undefined
  #flushWaiters: Array<() => void> = []
  #flushRequested = false
  #backlogFullLogged = false
  /** points InfluxDB will not keep (older than the raw retention) since the last takeExpired() */
  #expired = 0
  /** counters for /metrics */
  #shippedTotal = 0
  #rejectedTotal = 0

  constructor (link: InfluxLink, outbox: MetricOutbox, settings: ShipperSettings) {
    this.#link = link
    this.#outbox = outbox
    this.#s = settings
    this.#health = {
      succeed: () => { this.#succeed() },
      fail: (f) => { this.#fail(f) },
      setSchemaReady: (ready) => { this.#schemaReady = ready }
    }
  }

  /** Make one attempt at the schema, then ship in the background. Never throws for an unreachable or misconfigured server. */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#link.log.info({ url: this.#link.conn.safeUrl, database: this.#link.db, backlog: this.#outbox.count() }, 'influx metric store starting')
    await ensureSchema(this.#link, this.#s, this.#health)
    this.#loop = this.#run()
  }

  /** Before an append of `n` points: the outbox's backlog, or VIGIE_ERR_METRIC_BACKLOG_FULL when they would not fit. */
  reserve (n: number): number {
    const backlog = this.#outbox.count()
    if (backlog + n > this.#s.maxBacklog) {
      if (!this.#backlogFullLogged) {
        this.#backlogFullLogged = true
        this.#link.log.error({ backlog, maxBacklog: this.#s.maxBacklog, lastError: this.#failure?.message }, 'metric outbox full: refusing new reports until InfluxDB catches up')
      }
      throw new MetricStoreError('VIGIE_ERR_METRIC_BACKLOG_FULL',
        `metric outbox holds ${backlog} points waiting for InfluxDB (max ${this.#s.maxBacklog}); retry later`)
    }
    return backlog
  }

  /** Into the outbox (the caller's transaction); a full batch wakes the shipper unless it is backing off. */
  enqueue (points: readonly SamplePoint[], backlog: number): void {
    this.#outbox.append(points)
    if (backlog + points.length >= this.#s.batchSize && this.#backoffMs === 0) this.#wakeUp()
  }

  /** Resolves when the outbox and the repair list are empty; rejects after `timeoutMs` with the last error. */
  async flush (timeoutMs: number): Promise<void> {
    if (this.#outbox.count() === 0 && this.#outbox.repairCount() === 0) return
    if (!this.#started || this.#closing) throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE', 'the InfluxDB store is not running')
    let timer: NodeJS.Timeout | undefined
    let waiter: (() => void) | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = resolve
        this.#flushWaiters.push(resolve)
        timer = setTimeout(() => {
          reject(new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE',
            `flush did not complete within ${timeoutMs} ms: ${this.#outbox.count()} points waiting` +
            (this.#failure === undefined ? '' : `; ${this.#failure.message}`)))
        }, timeoutMs)
        this.#flushRequested = true
        if (this.#backoffMs === 0) this.#wakeUp()
      })
    } finally {
      clearTimeout(timer)
      this.#flushWaiters = this.#flushWaiters.filter((w) => w !== waiter)
      if (this.#flushWaiters.length === 0) this.#flushRequested = false
    }
  }

  /** Points InfluxDB would not keep since the last call. */
  takeExpired (): number {
    const n = this.#expired
    this.#expired = 0
    return n
  }

  status (): MetricStoreStatus {
    const backlog = this.#outbox.count()
    const full = backlog >= this.#s.maxBacklog
    const healthy = this.#started && !this.#closing && this.#schemaReady && this.#failure === undefined
    let lastError = this.#failure?.message
    if (!this.#started) lastError ??= 'not started'
    if (full) lastError = `metric outbox full (${backlog} of ${this.#s.maxBacklog} points): new reports are refused until InfluxDB catches up` + (lastError === undefined ? '' : `; ${lastError}`)
    const status: MetricStoreStatus = { ready: healthy && !full, backlog, accepting: !full }
    if (lastError !== undefined) status.lastError = lastError
    return status
  }

  stats (): { shippedPoints: number, rejectedPoints: number, backlog: number, pendingRepairs: number } {
    return { shippedPoints: this.#shippedTotal, rejectedPoints: this.#rejectedTotal, backlog: this.#outbox.count(), pendingRepairs: this.#outbox.repairCount() }
  }

  /** Stop shipping; what is still in the outbox stays there for the next start. */
  async close (): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#wakeUp()
    await this.#loop
    this.#link.log.info({ backlog: this.#outbox.count() }, 'influx metric store closed')
  }

  async #run (): Promise<void> {
    if (!this.#schemaReady) await this.#backoff()
    while (!this.#closing) {
      try {
        if (!this.#schemaReady) {
          if (!await ensureSchema(this.#link, this.#s, this.#health)) { await this.#backoff(); continue }
        }
        if (this.#outbox.inTransaction) {
          // A caller is mid-transaction on our connection: its rows may still roll back.
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        const rows = this.#outbox.peek(this.#s.batchSize)
        if (rows.length > 0) {
          if (!await this.#ship(rows)) { await this.#backoff(); continue }
          if (rows.length === this.#s.batchSize) continue
        }
        if (this.#outbox.repairCount() > 0) {
          if (!await repairPending(this.#link, this.#outbox, this.#health)) { await this.#backoff(); continue }
        }
        const empty = this.#outbox.count() === 0 && this.#outbox.repairCount() === 0
        if (empty) {
          const waiters = this.#flushWaiters
          this.#flushWaiters = []
          for (const w of waiters) w()
          this.#flushRequested = false
        } else if (this.#flushRequested) {
          continue
        }
        if (rows.length === 0 && Date.now() - this.#lastContactMs > IDLE_PING_MS) {
          if (!await this.#ping()) { await this.#backoff(); continue }
        }
        await this.#pause(this.#s.flushIntervalMs)
      } catch (err) {
        // A bug or a SQLite error: never let the loop die, never spin.
        this.#fail({ kind: 'other', message: `metric shipper: ${(err as Error).message}` })
        await this.#backoff()
      }
    }
  }

  /** Write one batch; true once InfluxDB has it (or refused parts of it for good). */
  async #ship (rows: OutboxRow[]): Promise<boolean> {
    const { conn, db } = this.#link
    const shipMs = Date.now()
    const oldestKept = shipMs - this.#s.rawRetentionMs + 60_000
    const points: IPoint[] = []
    const kept: OutboxRow[] = []
    let expired = 0
    for (const r of rows) {
      if (r.atMs < oldestKept) { expired++; continue }
      kept.push(r)
      points.push({ measurement: lineMeasurement(r.name), tags: toTags(r.machineId, r.unit, r.labels), fields: { value: r.value }, timestamp: r.atMs })
    }
    if (points.length > 0) {
      try {
        await conn.client.writePoints(points, { database: db, retentionPolicy: RP_RAW, precision: 'ms' })
      } catch (err) {
        const f = describeFailure(err, `writing ${points.length} points`, conn, db)
        if (f.kind !== 'rejected') {
          if (f.kind === 'missing') this.#schemaReady = false
          this.#fail(f)
          return false
        }
        // InfluxDB wrote the valid points and will never take the others: move on.
        const dropped = Number(/dropped=(\d+)/.exec(f.message)?.[1] ?? points.length)
        if (/beyond retention/.test(f.message)) expired += dropped
        else this.#rejectedTotal += dropped
        this.#link.log.warn({ dropped, reason: f.message }, 'InfluxDB refused some points')
      }
    }
    this.#expired += expired
    this.#outbox.remove(rows[rows.length - 1].id, repairsFor(kept, shipMs, this.#s.resample))
    this.#shippedTotal += kept.length
    this.#succeed()
    return true
  }

  async #ping (): Promise<boolean> {
    try {
      await execRaw(this.#link, 'SHOW RETENTION POLICIES ON ' + ident(this.#link.db), 'checking the database')
      this.#succeed()
      return true
    } catch (err) {
      const f = describeFailure(err, 'checking the database', this.#link.conn, this.#link.db)
      if (f.kind === 'missing' || /database not found/.test(f.message)) this.#schemaReady = false
      this.#fail(f)
      return false
    }
  }

  #succeed (): void {
    this.#lastContactMs = Date.now()
    this.#backoffMs = 0
    if (this.#failure !== undefined) {
      this.#link.log.info({ url: this.#link.conn.safeUrl, backlog: this.#outbox.count() }, 'InfluxDB reachable again: shipping the backlog')
      this.#failure = undefined
    }
    if (this.#backlogFullLogged && this.#outbox.count() < this.#s.maxBacklog) this.#backlogFullLogged = false
  }

  #fail (f: Failure): void {
    if (this.#failure?.message !== f.message) {
      this.#link.log.warn({ kind: f.kind, backlog: this.#outbox.count() }, f.message)
    }
    this.#failure = f
    this.#backoffMs = this.#backoffMs === 0 ? this.#s.backoffInitialMs : Math.min(this.#s.backoffMaxMs, this.#backoffMs * 2)
  }

  async #backoff (): Promise<void> {
    // ±20 % jitter so a fleet of collectors does not retry in step.
    await this.#pause(this.#backoffMs * (0.8 + Math.random() * 0.4))
  }

  /** Sleep until `ms` passed, or until woken (a full batch, a flush, close). */
  async #pause (ms: number): Promise<void> {
    if (this.#closing) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      timer.unref()
      function done (): void { clearTimeout(timer); resolve() }
      this.#wake = done
    })
    this.#wake = undefined
  }

  #wakeUp (): void {
    this.#wake?.()
  }
}
