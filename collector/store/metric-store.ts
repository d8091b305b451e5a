/**
 * The metric-store contract: where samples live. Two implementations, chosen by
 * configuration: embedded SQLite (default) and InfluxDB 1.x. Both pass the same
 * contract tests (test/collector/store/contract.ts).
 *
 * Durability rule: `append` is called synchronously inside the collector's ingest
 * transaction (the one that records `(agent, seq)` as stored). When that
 * transaction commits, the points are durable: the SQLite store writes them in the
 * same transaction; the InfluxDB store writes them to a durable outbox in the same
 * SQLite transaction and ships them to InfluxDB in the background. So an
 * acknowledged report is never lost, even if InfluxDB is down.
 */
import type { MetricValue, Unit } from '../../protocol/index.js'

/** One value of one series at one instant. */
export interface SamplePoint {
  machineId: string
  /** metric name, e.g. `fs.used_pct` */
  name: string
  /** the series' own labels, e.g. `{ mount: '/' }`; `{}` when none */
  labels: Record<string, string>
  unit: Unit
  /** sample time, Unix epoch milliseconds */
  atMs: number
  value: number
}

export type Aggregate = 'avg' | 'min' | 'max' | 'last'

export interface SeriesQuery {
  machineId: string
  name: string
  /** exact label match; omitted = every series with this name */
  labels?: Record<string, string>
  /** inclusive start, epoch ms */
  fromMs: number
  /** exclusive end, epoch ms */
  toMs: number
  /** bucket width, ms; each bucket starts at a multiple of stepMs (epoch-aligned) */
  stepMs: number
  /** default 'avg' */
  aggregate?: Aggregate
}

export interface SeriesResult {
  name: string
  labels: Record<string, string>
  unit: Unit
  /** [bucket start epoch ms, aggregated value], ascending, empty buckets left out */
  points: Array<[number, number]>
  /** which resolution answered: 'raw', '5m', '1h' */
  resolution: string
}

export interface SeriesInfo {
  name: string
  labels: Record<string, string>
  unit: Unit
}

export interface MetricStoreStatus {
  /** false while the store cannot take reads/writes (e.g. InfluxDB unreachable) */
  ready: boolean
  /** points accepted but not yet in the backing store (0 for SQLite) */
  backlog: number
  /** false when appends must be refused (e.g. the InfluxDB outbox hit its bound); ingest then answers 503. Default true. */
  accepting?: boolean
  lastError?: string
}

export interface MetricStore {
  readonly kind: 'sqlite' | 'influx'
  /** Prepare schema / connections. Must not throw when a remote backend is down (degrade instead). */
  start (): Promise<void>
  /** Synchronous, inside the ingest transaction; see the durability rule above. */
  append (points: readonly SamplePoint[]): void
  /** The values of one report (one machine, one instant): the ingest path. Same rule as `append`. */
  appendReport (machineId: string, atMs: number, metrics: readonly MetricValue[]): void
  /** After a rolled-back ingest: forget what is cached about these machines (e.g. series ids created in it). */
  discardCache? (machineIds: readonly string[]): void
  /** The values stored for one machine at one instant, in report order, if the store can read them back synchronously (SQLite). */
  latestAt? (machineId: string, atMs: number): MetricValue[] | undefined
  query (q: SeriesQuery): Promise<SeriesResult[]>
  /** How many series `query` would answer for this machine, name and (exact) labels, without reading samples: the route's answer budget. */
  countSeries (machineId: string, name: string, labels?: Record<string, string>): Promise<number>
  listSeries (machineId: string): Promise<SeriesInfo[]>
  /** Drop raw samples older than the retention; returns how many were dropped (approximate for InfluxDB, which does it itself). */
  prune (nowMs: number): Promise<number>
  status (): MetricStoreStatus
  close (): Promise<void>
}
