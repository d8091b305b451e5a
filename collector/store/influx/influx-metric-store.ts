/**
 * Metrics in InfluxDB 1.x behind the MetricStore contract.
 *
 * `append` only writes to the durable SQLite outbox (inside the caller's ingest
 * transaction); a background shipper sends the outbox to InfluxDB in order, in
 * batches (`batchSize` points, or whatever is there every `flushIntervalMs`),
 * and removes rows only after InfluxDB acknowledged them. While InfluxDB is down
 * or refusing, the shipper backs off exponentially and the outbox grows up to
 * `maxBacklog`; past that, `append` throws VIGIE_ERR_METRIC_BACKLOG_FULL so the
 * ingest route answers 503 and agents keep the reports in their own spool.
 * Nothing accepted is ever dropped, except points InfluxDB itself will not keep
 * (older than the raw retention), which are counted and reported by `prune`.
 *
 * A re-sent batch (acknowledgement lost) is harmless: InfluxDB keeps one value
 * per series and timestamp, so replays overwrite rather than duplicate.
 *
 * Budgets, as in the SQLite store: the series registry (on the same SQLite
 * database) drops points of new series past VIGIE_MAX_SERIES_PER_MACHINE and
 * VIGIE_MAX_SERIES_TOTAL before they reach the outbox; and a query is read in
 * windows of whole buckets, each answer at most ~QUERY_WINDOW_POINTS points, so
 * no single InfluxDB answer is parsed in one long piece.
 */
import type { IPoint } from 'influx'
import type {
  MetricStore, MetricStoreStatus, SamplePoint, SeriesInfo, SeriesQuery, SeriesResult
} from '../metric-store.js'
import type { MetricOutbox, OutboxRow, RollupRepair } from '../../notify/outbox-sqlite.js'
import type { SeriesRegistry } from '../sqlite/series-registry.js'
import { seriesKey, type MetricValue } from '../../../protocol/index.js'
import { connectInflux, describeFailure, type Failure, type InfluxConnection } from './connection.js'
import { MetricStoreError } from './errors.js'
import {
  DAY_MS, DEFAULT_RESAMPLE, HOUR_MS, ROLLUPS, RP_RAW, createCqStatement, cqName, duration, fromTags, ident,
  lateAfterMs, lineMeasurement, listSeriesStatement, parseGoDurationMs, parseSeriesKeyLine, pickResolution,
  repairStatement, seriesQueryStatement, toTags, type Resample, type Rollup
} from './schema.js'

/** The part of a pino/Fastify logger the store uses. */
export interface StoreLogger {
  debug (obj: object, msg: string): void
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface InfluxMetricStoreOptions {
  /** `http(s)://[user:password@]host:port[/path]`; the password is never logged */
  url: string
  /** database name; created at start if missing (needs an admin user, see `manageSchema`) */
  database: string
  /** the durable outbox, on the same SQLite database as the ingest transaction */
  outbox: MetricOutbox
  /** the series budgets (per machine, in total), on the same SQLite database */
  series: SeriesRegistry
  logger?: StoreLogger
  /** days raw samples are kept (retention policy `raw`, the database DEFAULT) */
  rawRetentionDays: number
  /** days 5-minute buckets are kept (default 90) */
  rollup5mRetentionDays?: number
  /** days hourly buckets are kept (default 730) */
  rollup1hRetentionDays?: number
  /** ship whatever is waiting at least this often, ms (e.g. 1000) */
  flushIntervalMs: number
  /** points per InfluxDB write; a full batch ships at once (e.g. 5000) */
  batchSize: number
  /** most points the outbox may hold before `append` refuses (e.g. 2_000_000) */
  maxBacklog: number
  /** HTTP request timeout, ms (default 10_000) */
  requestTimeoutMs?: number
  /** first retry delay after a failure, ms (default 250); doubles up to `backoffMaxMs` */
  backoffInitialMs?: number
  /** longest retry delay, ms (default 30_000) */
  backoffMaxMs?: number
  /**
   * Create/alter the database, retention policies and continuous queries at
   * start (default true; needs an admin user). When false the store only checks
   * that the database and the `raw` policy exist — an operator created them
   * from docs/storage.md.
   */
  manageSchema?: boolean
  /** continuous-query cadence per rollup (default: 5m EVERY 5m FOR 15m, 1h EVERY 1h FOR 3h) */
  resample?: Partial<Record<Rollup['name'], Resample>>
}

const NOOP_LOGGER: StoreLogger = { debug () {}, info () {}, warn () {}, error () {} }
/** How long an idle, healthy store goes without talking to InfluxDB before it pings. */
const IDLE_PING_MS = 15_000
/** Largest time window and measurement list of one repair statement. */
const REPAIR_WINDOW_MS: Record<Rollup['name'], number> = { '5m': DAY_MS, '1h': 14 * DAY_MS }
const REPAIR_NAMES_PER_STATEMENT = 50
/** Points (buckets × series) one query window asks InfluxDB for; the first window, series unknown yet, is FIRST_WINDOW_BUCKETS buckets. */
export const QUERY_WINDOW_POINTS = 20_000
const FIRST_WINDOW_BUCKETS = 500

interface RawResponse {
  results?: Array<{
    error?: string
    series?: Array<{ name: string, tags?: Record<string, string>, columns: string[], values: unknown[][] }>
  }>
}

export class InfluxMetricStore implements MetricStore {
  readonly kind = 'influx' as const
  readonly #conn: InfluxConnection
  readonly #db: string
  readonly #outbox: MetricOutbox
  readonly #series: SeriesRegistry
  readonly #log: StoreLogger
  readonly #rawRetentionMs: number
  readonly #rollupRetentionMs: Record<Rollup['name'], number>
  readonly #flushIntervalMs: number
  readonly #batchSize: number
  readonly #maxBacklog: number
  readonly #backoffInitialMs: number
  readonly #backoffMaxMs: number
  readonly #manageSchema: boolean
  readonly #resample: Record<Rollup['name'], Resample>

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
  /** points InfluxDB will not keep (older than the raw retention) since the last prune() */
  #expired = 0
  /** counters for /metrics */
  #shippedTotal = 0
  #rejectedTotal = 0

  constructor (options: InfluxMetricStoreOptions) {
    const positive = (key: string, v: number | undefined, min = 1): void => {
      if (v === undefined || !Number.isFinite(v) || v < min) {
        throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_CONFIG', `InfluxDB store option ${key} = ${String(v)}; expected a number ≥ ${min}`)
      }
    }
    positive('rawRetentionDays', options.rawRetentionDays, 1 / 24)
    positive('flushIntervalMs', options.flushIntervalMs)
    positive('batchSize', options.batchSize)
    positive('maxBacklog', options.maxBacklog)
    this.#rawRetentionMs = Math.round(options.rawRetentionDays * 24) * HOUR_MS
    this.#rollupRetentionMs = {
      '5m': Math.round((options.rollup5mRetentionDays ?? 90) * 24) * HOUR_MS,
      '1h': Math.round((options.rollup1hRetentionDays ?? 730) * 24) * HOUR_MS
    }
    positive('rollup5mRetentionDays', this.#rollupRetentionMs['5m'], HOUR_MS)
    positive('rollup1hRetentionDays', this.#rollupRetentionMs['1h'], HOUR_MS)
    this.#flushIntervalMs = options.flushIntervalMs
    this.#batchSize = Math.floor(options.batchSize)
    this.#maxBacklog = Math.floor(options.maxBacklog)
    this.#backoffInitialMs = options.backoffInitialMs ?? 250
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000
    this.#manageSchema = options.manageSchema ?? true
    this.#resample = { ...DEFAULT_RESAMPLE, ...options.resample }
    this.#db = options.database
    this.#outbox = options.outbox
    this.#series = options.series
    this.#log = options.logger ?? NOOP_LOGGER
    this.#conn = connectInflux(options.url, options.database, options.requestTimeoutMs ?? 10_000)
  }

  /**
   * Make one attempt at the schema, then ship in the background. Never throws
   * for an unreachable or misconfigured server: status() says what is wrong
   * and the store keeps retrying.
   */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#log.info({ url: this.#conn.safeUrl, database: this.#db, backlog: this.#outbox.count() }, 'influx metric store starting')
    await this.#ensureSchema()
    this.#loop = this.#run()
  }

  append (points: readonly SamplePoint[]): void {
    const backlog = this.#outbox.count()
    if (backlog + points.length > this.#maxBacklog) {
      if (!this.#backlogFullLogged) {
        this.#backlogFullLogged = true
        this.#log.error({ backlog, maxBacklog: this.#maxBacklog, lastError: this.#failure?.message }, 'metric outbox full: refusing new reports until InfluxDB catches up')
      }
      throw new MetricStoreError('VIGIE_ERR_METRIC_BACKLOG_FULL',
        `metric outbox holds ${backlog} points waiting for InfluxDB (max ${this.#maxBacklog}); retry later`)
    }
    const keep = this.#series.admit(points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.atMs)))
    this.#outbox.append(keep)
    if (backlog + keep.length >= this.#batchSize && this.#backoffMs === 0) this.#wakeUp()
  }

  discardCache (machineIds: readonly string[]): void {
    this.#series.discard(machineIds)
  }

  appendReport (machineId: string, atMs: number, metrics: readonly MetricValue[]): void {
    this.append(metrics.map(m => ({ machineId, name: m.name, labels: m.labels ?? {}, unit: m.unit, atMs, value: m.value })))
  }

  /**
   * Ship everything accepted so far and bring the rollups up to date. Resolves
   * when the outbox and the repair list are empty; rejects after `timeoutMs`
   * with the last error. For tests and orderly shutdowns; ingest never waits.
   */
  async flush (timeoutMs = 30_000): Promise<void> {
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

  async query (q: SeriesQuery): Promise<SeriesResult[]> {
    if (!Number.isFinite(q.fromMs) || !Number.isFinite(q.toMs) || !Number.isInteger(q.stepMs) || q.stepMs < 1) {
      throw new MetricStoreError('VIGIE_ERR_METRIC_QUERY_INVALID',
        `series query needs finite fromMs/toMs and a whole stepMs ≥ 1 (got ${q.fromMs}, ${q.toMs}, ${q.stepMs})`)
    }
    if (q.toMs <= q.fromMs) return []
    const rollup = pickResolution(q.stepMs)
    const wanted = q.labels === undefined ? undefined : seriesKey(q.name, q.labels)
    const from = Math.floor(q.fromMs)
    const to = Math.ceil(q.toMs)
    const step = q.stepMs
    const bySeries = new Map<string, SeriesResult>()
    // Windows end on multiples of the step, as buckets do (GROUP BY time is epoch-aligned): each bucket is read whole, once.
    let buckets = FIRST_WINDOW_BUCKETS
    for (let start = from; start < to;) {
      const end = Math.min(to, (Math.floor(start / step) + buckets) * step)
      const res = await this.#read(seriesQueryStatement(this.#db, { ...q, fromMs: start, toMs: end }, rollup), 'querying a series')
      for (const s of res.results?.[0]?.series ?? []) {
        const { unit, labels } = fromTags(s.tags ?? {})
        const key = seriesKey(q.name, labels)
        if (wanted !== undefined && key !== wanted) continue
        let r = bySeries.get(key)
        for (const row of s.values) {
          if (typeof row[0] !== 'number' || typeof row[1] !== 'number') continue
          if (r === undefined) bySeries.set(key, r = { name: q.name, labels, unit, points: [], resolution: rollup?.name ?? 'raw' })
          r.points.push([row[0], row[1]])
        }
      }
      buckets = Math.max(1, Math.floor(QUERY_WINDOW_POINTS / Math.max(1, bySeries.size)))
      start = end
    }
    return [...bySeries.entries()].sort((a, b) => compare(a[0], b[0])).map((e) => e[1])
  }

  async countSeries (machineId: string, name: string, labels?: Record<string, string>): Promise<number> {
    const wanted = labels === undefined ? undefined : seriesKey(name, labels)
    return (await this.listSeries(machineId)).filter(s => s.name === name && (wanted === undefined || seriesKey(s.name, s.labels) === wanted)).length
  }

  async listSeries (machineId: string): Promise<SeriesInfo[]> {
    const res = await this.#read(listSeriesStatement(this.#db, machineId), 'listing series')
    const byKey = new Map<string, SeriesInfo>()
    for (const s of res.results?.[0]?.series ?? []) {
      for (const row of s.values) {
        if (typeof row[0] !== 'string') continue
        const { measurement, tags } = parseSeriesKeyLine(row[0])
        const decoded = fromTags(tags)
        if (decoded.machineId !== machineId) continue
        byKey.set(seriesKey(measurement, decoded.labels), { name: measurement, labels: decoded.labels, unit: decoded.unit })
      }
    }
    return [...byKey.entries()].sort((a, b) => compare(a[0], b[0])).map((e) => e[1])
  }

  /** InfluxDB expires data itself (retention policies); this reports how many points it would not keep since the last call. */
  async prune (_nowMs: number): Promise<number> {
    const n = this.#expired
    this.#expired = 0
    return n
  }

  status (): MetricStoreStatus {
    const backlog = this.#outbox.count()
    const full = backlog >= this.#maxBacklog
    const healthy = this.#started && !this.#closing && this.#schemaReady && this.#failure === undefined
    let lastError = this.#failure?.message
    if (!this.#started) lastError ??= 'not started'
    if (full) lastError = `metric outbox full (${backlog} of ${this.#maxBacklog} points): new reports are refused until InfluxDB catches up` + (lastError === undefined ? '' : `; ${lastError}`)
    const status: MetricStoreStatus = { ready: healthy && !full, backlog, accepting: !full }
    if (lastError !== undefined) status.lastError = lastError
    return status
  }

  /** Counters for the collector's /metrics. */
  stats (): { shippedPoints: number, rejectedPoints: number, backlog: number, pendingRepairs: number } {
    return { shippedPoints: this.#shippedTotal, rejectedPoints: this.#rejectedTotal, backlog: this.#outbox.count(), pendingRepairs: this.#outbox.repairCount() }
  }

  /** Stop shipping; what is still in the outbox stays there for the next start. */
  async close (): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    this.#wakeUp()
    await this.#loop
    this.#log.info({ backlog: this.#outbox.count() }, 'influx metric store closed')
  }

  async #read (q: string, action: string): Promise<RawResponse> {
    let res: RawResponse
    try {
      res = await this.#conn.client.queryRaw(q, { database: this.#db, precision: 'ms' }) as RawResponse
    } catch (err) {
      const f = describeFailure(err, action, this.#conn, this.#db)
      throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE', f.message, { cause: err })
    }
    const error = res.results?.[0]?.error
    if (error !== undefined) {
      if (/database not found/.test(error)) return { results: [{}] }
      throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE', `${action} at ${this.#conn.safeUrl}: ${error}`)
    }
    return res
  }

  async #exec (q: string, action: string): Promise<RawResponse> {
    const res = await this.#conn.client.queryRaw(q, { database: this.#db, method: 'POST', precision: 'ms' }) as RawResponse
    const error = res.results?.find((r) => r.error !== undefined)?.error
    if (error !== undefined) throw new Error(`${action}: ${error}`)
    return res
  }

  // ---- the shipper ---------------------------------------------------------

  async #run (): Promise<void> {
    if (!this.#schemaReady) await this.#backoff()
    while (!this.#closing) {
      try {
        if (!this.#schemaReady) {
          if (!await this.#ensureSchema()) { await this.#backoff(); continue }
        }
        if (this.#outbox.inTransaction) {
          // A caller is mid-transaction on our connection: its rows may still roll back.
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        const rows = this.#outbox.peek(this.#batchSize)
        if (rows.length > 0) {
          if (!await this.#ship(rows)) { await this.#backoff(); continue }
          if (rows.length === this.#batchSize) continue
        }
        if (this.#outbox.repairCount() > 0) {
          if (!await this.#repair()) { await this.#backoff(); continue }
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
        await this.#pause(this.#flushIntervalMs)
      } catch (err) {
        // A bug or a SQLite error: never let the loop die, never spin.
        this.#fail({ kind: 'other', message: `metric shipper: ${(err as Error).message}` })
        await this.#backoff()
      }
    }
  }

  /** Write one batch; true once InfluxDB has it (or refused parts of it for good). */
  async #ship (rows: OutboxRow[]): Promise<boolean> {
    const shipMs = Date.now()
    const oldestKept = shipMs - this.#rawRetentionMs + 60_000
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
        await this.#conn.client.writePoints(points, { database: this.#db, retentionPolicy: RP_RAW, precision: 'ms' })
      } catch (err) {
        const f = describeFailure(err, `writing ${points.length} points`, this.#conn, this.#db)
        if (f.kind !== 'rejected') {
          if (f.kind === 'missing') this.#schemaReady = false
          this.#fail(f)
          return false
        }
        // InfluxDB wrote the valid points and will never take the others: move on.
        const dropped = Number(/dropped=(\d+)/.exec(f.message)?.[1] ?? points.length)
        if (/beyond retention/.test(f.message)) expired += dropped
        else this.#rejectedTotal += dropped
        this.#log.warn({ dropped, reason: f.message }, 'InfluxDB refused some points')
      }
    }
    this.#expired += expired
    this.#outbox.remove(rows[rows.length - 1].id, this.#repairsFor(kept, shipMs))
    this.#shippedTotal += kept.length
    this.#succeed()
    return true
  }

  /** Rollup buckets the continuous queries will no longer revisit, grouped into runs of adjacent buckets. */
  #repairsFor (rows: OutboxRow[], shipMs: number): RollupRepair[] {
    const repairs: RollupRepair[] = []
    for (const rollup of ROLLUPS) {
      const cutoff = shipMs - lateAfterMs(rollup, this.#resample[rollup.name])
      const buckets = new Map<number, Set<string>>()
      for (const r of rows) {
        if (r.atMs >= cutoff) continue
        const b = Math.floor(r.atMs / rollup.intervalMs) * rollup.intervalMs
        let names = buckets.get(b)
        if (names === undefined) buckets.set(b, names = new Set())
        names.add(r.name)
      }
      let cur: RollupRepair | undefined
      for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
        if (cur !== undefined && b <= cur.toMs) {
          cur.toMs = b + rollup.intervalMs
          for (const n of buckets.get(b) ?? []) if (!cur.names.includes(n)) cur.names.push(n)
        } else {
          cur = { resolution: rollup.name, fromMs: b, toMs: b + rollup.intervalMs, names: [...buckets.get(b) ?? []] }
          repairs.push(cur)
        }
      }
    }
    return repairs
  }

  /** Recompute rollup buckets that late samples went into; true when all pending repairs are done. */
  async #repair (): Promise<boolean> {
    const pending = this.#outbox.peekRepairs(1000)
    if (pending.length === 0) return true
    let written = 0
    for (const rollup of ROLLUPS) {
      for (const range of mergeRanges(pending.filter((p) => p.resolution === rollup.name))) {
        const window = REPAIR_WINDOW_MS[rollup.name]
        for (let from = range.fromMs; from < range.toMs; from += window) {
          const to = Math.min(range.toMs, from + window)
          for (let i = 0; i < range.names.length; i += REPAIR_NAMES_PER_STATEMENT) {
            const names = range.names.slice(i, i + REPAIR_NAMES_PER_STATEMENT)
            try {
              const res = await this.#exec(repairStatement(this.#db, rollup, names, from, to), `rolling up late samples into ${rollup.rp}`)
              const n = res.results?.[0]?.series?.[0]?.values?.[0]?.[1]
              if (typeof n === 'number') written += n
            } catch (err) {
              const f = describeFailure(err, `rolling up late samples into ${rollup.rp}`, this.#conn, this.#db)
              if (f.kind === 'rejected') {
                // The statement itself is wrong: retrying cannot help, and must not block the others.
                this.#log.error({ from, to, names }, f.message)
                continue
              }
              this.#fail(f)
              return false
            }
          }
        }
      }
    }
    this.#outbox.removeRepairs(pending[pending.length - 1].id)
    this.#log.debug({ repairs: pending.length, bucketsWritten: written }, 'rolled up late samples')
    this.#succeed()
    return true
  }

  async #ping (): Promise<boolean> {
    try {
      await this.#exec('SHOW RETENTION POLICIES ON ' + ident(this.#db), 'checking the database')
      this.#succeed()
      return true
    } catch (err) {
      const f = describeFailure(err, 'checking the database', this.#conn, this.#db)
      if (f.kind === 'missing' || /database not found/.test(f.message)) this.#schemaReady = false
      this.#fail(f)
      return false
    }
  }

  /** Database, retention policies, continuous queries; true when writes can go ahead. */
  async #ensureSchema (): Promise<boolean> {
    let step = 'listing databases'
    try {
      const dbs = await this.#conn.client.getDatabaseNames()
      const want: Array<{ rp: string, ms: number, isDefault: boolean }> = [
        { rp: RP_RAW, ms: this.#rawRetentionMs, isDefault: true },
        ...ROLLUPS.map((r) => ({ rp: r.rp, ms: this.#rollupRetentionMs[r.name], isDefault: false }))
      ]
      if (!dbs.includes(this.#db)) {
        step = this.#manageSchema ? `creating database "${this.#db}"` : `finding database "${this.#db}"`
        if (!this.#manageSchema) throw new Error(`database not found: "${this.#db}" (manageSchema is off: create it as docs/storage.md shows)`)
        await this.#exec(`CREATE DATABASE ${ident(this.#db)}`, step)
        this.#log.info({ database: this.#db }, 'created InfluxDB database')
      }
      step = 'reading retention policies'
      const rps = await this.#conn.client.showRetentionPolicies(this.#db)
      for (const w of want) {
        const have = rps.find((p) => p.name === w.rp)
        if (!this.#manageSchema) {
          if (have === undefined && w.rp === RP_RAW) throw new Error(`retention policy not found: "${RP_RAW}" (manageSchema is off: create it as docs/storage.md shows)`)
          continue
        }
        if (have !== undefined && parseGoDurationMs(have.duration) === w.ms && (have.default || !w.isDefault)) continue
        step = `${have === undefined ? 'creating' : 'altering'} retention policy "${w.rp}"`
        await this.#exec(`${have === undefined ? 'CREATE' : 'ALTER'} RETENTION POLICY ${ident(w.rp)} ON ${ident(this.#db)} ` +
          `DURATION ${duration(w.ms)} REPLICATION 1${w.isDefault ? ' DEFAULT' : ''}`, step)
        this.#log.info({ rp: w.rp, duration: duration(w.ms) }, have === undefined ? 'created retention policy' : 'changed retention policy')
      }
      if (this.#manageSchema) {
        step = 'reading continuous queries'
        const cqs = await this.#conn.client.showContinousQueries(this.#db)
        const wanted = new Map(ROLLUPS.map((r) => [cqName(this.#db, r, this.#resample[r.name]), r]))
        for (const cq of cqs) {
          if (cq.name.startsWith('vigie_rollup_') && !wanted.has(cq.name)) {
            step = `dropping continuous query "${cq.name}"`
            await this.#exec(`DROP CONTINUOUS QUERY ${ident(cq.name)} ON ${ident(this.#db)}`, step)
          }
        }
        for (const [name, rollup] of wanted) {
          if (cqs.some((cq) => cq.name === name)) continue
          step = `creating continuous query "${name}"`
          await this.#exec(createCqStatement(this.#db, rollup, this.#resample[rollup.name]), step)
          this.#log.info({ cq: name }, 'created continuous query')
        }
      }
      this.#schemaReady = true
      this.#succeed()
      return true
    } catch (err) {
      this.#schemaReady = false
      this.#fail(describeFailure(err, step, this.#conn, this.#db))
      return false
    }
  }

  #succeed (): void {
    this.#lastContactMs = Date.now()
    this.#backoffMs = 0
    if (this.#failure !== undefined) {
      this.#log.info({ url: this.#conn.safeUrl, backlog: this.#outbox.count() }, 'InfluxDB reachable again: shipping the backlog')
      this.#failure = undefined
    }
    if (this.#backlogFullLogged && this.#outbox.count() < this.#maxBacklog) this.#backlogFullLogged = false
  }

  #fail (f: Failure): void {
    if (this.#failure?.message !== f.message) {
      this.#log.warn({ kind: f.kind, backlog: this.#outbox.count() }, f.message)
    }
    this.#failure = f
    this.#backoffMs = this.#backoffMs === 0 ? this.#backoffInitialMs : Math.min(this.#backoffMaxMs, this.#backoffMs * 2)
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

function mergeRanges (repairs: RollupRepair[]): RollupRepair[] {
  const sorted = [...repairs].sort((a, b) => a.fromMs - b.fromMs)
  const out: RollupRepair[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && r.fromMs <= last.toMs) {
      last.toMs = Math.max(last.toMs, r.toMs)
      for (const n of r.names) if (!last.names.includes(n)) last.names.push(n)
    } else {
      out.push({ ...r, names: [...r.names] })
    }
  }
  return out
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
