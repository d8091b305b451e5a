/**
 * Metrics in InfluxDB 1.x behind the MetricStore contract: the options, and the
 * parts composed.
 *
 * `append` only writes to the durable SQLite outbox (inside the caller's ingest
 * transaction); the shipper (shipper.ts) sends the outbox to InfluxDB in the
 * background, in order and in batches, backing off while InfluxDB is down; past
 * `maxBacklog` waiting points, `append` throws VIGIE_ERR_METRIC_BACKLOG_FULL so
 * the ingest route answers 503 and agents keep the reports in their own spool.
 * Nothing accepted is ever dropped, except points InfluxDB itself will not keep
 * (older than the raw retention), which are counted and reported by `prune`.
 *
 * The other parts: reads in bounded windows (query.ts), the database, retention
 * policies and continuous queries (schema-setup.ts, from the pure schema.ts),
 * the re-rollup of buckets late samples went into (repair.ts), and what they
 * share (link.ts).
 *
 * Budgets, as in the SQLite store: the series registry (on the same SQLite
 * database) drops points of new series past VIGIE_MAX_SERIES_PER_MACHINE and
 * VIGIE_MAX_SERIES_TOTAL before they reach the outbox; a query answer is read
 * in windows of at most ~QUERY_WINDOW_POINTS points.
 */
import type {
  MetricStore, MetricStoreStatus, SamplePoint, SeriesInfo, SeriesQuery, SeriesResult
} from '../metric-store.js'
import type { MetricOutbox } from '../sqlite/outbox.js'
import type { SeriesRegistry } from '../sqlite/series-registry.js'
import type { MetricValue } from '../../../protocol/index.js'
import { connectInflux } from './connection.js'
import { MetricStoreError } from './errors.js'
import { NOOP_LOGGER, type StoreLogger } from './link.js'
import { InfluxReader } from './query.js'
import { DEFAULT_RESAMPLE, HOUR_MS, type Resample, type Rollup } from './schema.js'
import { InfluxShipper } from './shipper.js'

export type { StoreLogger } from './link.js'
export { QUERY_WINDOW_POINTS } from './query.js'

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

export class InfluxMetricStore implements MetricStore {
  readonly kind = 'influx' as const
  readonly #series: SeriesRegistry
  readonly #shipper: InfluxShipper
  readonly #reader: InfluxReader

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
    const rawRetentionMs = Math.round(options.rawRetentionDays * 24) * HOUR_MS
    const rollupRetentionMs: Record<Rollup['name'], number> = {
      '5m': Math.round((options.rollup5mRetentionDays ?? 90) * 24) * HOUR_MS,
      '1h': Math.round((options.rollup1hRetentionDays ?? 730) * 24) * HOUR_MS
    }
    positive('rollup5mRetentionDays', rollupRetentionMs['5m'], HOUR_MS)
    positive('rollup1hRetentionDays', rollupRetentionMs['1h'], HOUR_MS)
    const settings = {
      rawRetentionMs,
      rollupRetentionMs,
      flushIntervalMs: options.flushIntervalMs,
      batchSize: Math.floor(options.batchSize),
      maxBacklog: Math.floor(options.maxBacklog),
      backoffInitialMs: options.backoffInitialMs ?? 250,
      backoffMaxMs: options.backoffMaxMs ?? 30_000,
      manageSchema: options.manageSchema ?? true,
      resample: { ...DEFAULT_RESAMPLE, ...options.resample }
    }
    this.#series = options.series
    const link = {
      conn: connectInflux(options.url, options.database, options.requestTimeoutMs ?? 10_000),
      db: options.database,
      log: options.logger ?? NOOP_LOGGER
    }
    this.#shipper = new InfluxShipper(link, options.outbox, settings)
    this.#reader = new InfluxReader(link)
  }

  /**
   * Make one attempt at the schema, then ship in the background. Never throws
   * for an unreachable or misconfigured server: status() says what is wrong
   * and the store keeps retrying.
   */
  async start (): Promise<void> {
    await this.#shipper.start()
  }

  append (points: readonly SamplePoint[]): void {
    const backlog = this.#shipper.reserve(points.length)
    const keep = this.#series.admit(points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.atMs)))
    this.#shipper.enqueue(keep, backlog)
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
    await this.#shipper.flush(timeoutMs)
  }

  async query (q: SeriesQuery): Promise<SeriesResult[]> {
    return await this.#reader.query(q)
  }

  async countSeries (machineId: string, name: string, labels?: Record<string, string>): Promise<number> {
    return await this.#reader.countSeries(machineId, name, labels)
  }

  async listSeries (machineId: string): Promise<SeriesInfo[]> {
    return await this.#reader.listSeries(machineId)
  }

  /** InfluxDB expires data itself (retention policies); this reports how many points it would not keep since the last call. */
  async prune (_nowMs: number): Promise<number> {
    return this.#shipper.takeExpired()
  }

  status (): MetricStoreStatus {
    return this.#shipper.status()
  }

  /** Counters for the collector's /metrics. */
  stats (): { shippedPoints: number, rejectedPoints: number, backlog: number, pendingRepairs: number } {
    return this.#shipper.stats()
  }

  /** Stop shipping; what is still in the outbox stays there for the next start. */
  async close (): Promise<void> {
    await this.#shipper.close()
  }
}
