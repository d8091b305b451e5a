/**
 * Samples in the embedded SQLite database, clustered by time: one row (a
 * "frame") per machine and sample time holding every value of that instant as a
 * compact binary record, with the series (machine, name, labels, unit) interned
 * in their own table.
 *
 * Why frames: a report carries ~50 values taken at the same instant. One row per
 * value meant ~50 B-tree inserts per report on pages spread over the whole table,
 * and that was most of the collector's ingest time. One row per report is one
 * append at the end of the table and one small index entry. Reads decode the
 * machine's frames of the range (12 bytes per value) and pick the wanted series.
 *
 * Frame record: n values as float64 little-endian, then their n series ids as
 * uint32 little-endian (12·n bytes). See docs/storage.md.
 *
 * This class composes the parts: the record format (frames.ts), the write path
 * with the series budgets (frame-writer.ts), the reads (frame-reader.ts), and
 * rollups with pruning (rollup.ts).
 */
import type { Db } from './db.js'
import { migrate } from './db.js'
import type {
  MetricStore, MetricStoreStatus, SamplePoint, SeriesInfo, SeriesQuery, SeriesResult
} from '../metric-store.js'
import type { MetricValue, Unit } from '../../../protocol/index.js'
import { FRAME_MIGRATIONS, type ValueLike } from './frames.js'
import { FrameReader } from './frame-reader.js'
import { FrameWriter } from './frame-writer.js'
import { migrateRollup, pruneFrames } from './rollup.js'

export { decodeFrame, labelsJson } from './frames.js'

export interface SqliteMetricStoreOptions {
  /** raw samples older than this are folded into 5-minute rollups and pruned (default 30) */
  retentionDays?: number
  /** 5-minute rollups older than this are pruned (default 400) */
  rollupRetentionDays?: number
  /** a machine's points for series beyond this many are dropped (default 5000): an agent cannot grow the store without bound */
  maxSeriesPerMachine?: number
  /** told once per machine when it reaches the series bound */
  onSeriesLimit?: (machineId: string, limit: number) => void
  /** series all machines together may create (default 2,000,000); points of further new series are dropped */
  maxSeriesTotal?: number
  /** told of every point dropped because the global series bound is reached (called per report, with the count) */
  onGlobalSeriesLimit?: (machineId: string, limit: number, droppedPoints: number) => void
}

export class SqliteMetricStore implements MetricStore {
  readonly kind = 'sqlite' as const
  readonly #db: Db
  readonly #retentionMs: number
  readonly #rollupRetentionMs: number
  readonly #writer: FrameWriter
  readonly #reader: FrameReader

  constructor (db: Db, opts: SqliteMetricStoreOptions = {}) {
    this.#db = db
    this.#retentionMs = (opts.retentionDays ?? 30) * 86_400_000
    this.#rollupRetentionMs = (opts.rollupRetentionDays ?? 400) * 86_400_000
    migrateRollup(db)
    migrate(db, { name: 'frames', sql: FRAME_MIGRATIONS })
    this.#writer = new FrameWriter(db, {
      maxSeriesPerMachine: opts.maxSeriesPerMachine ?? 5000,
      onSeriesLimit: opts.onSeriesLimit,
      maxSeriesTotal: opts.maxSeriesTotal ?? 2_000_000,
      onGlobalSeriesLimit: opts.onGlobalSeriesLimit
    })
    this.#reader = new FrameReader(db)
    this.#convertOldSamples()
  }

  async start (): Promise<void> {}

  append (points: readonly SamplePoint[]): void {
    this.#writer.append(points)
  }

  appendReport (machineId: string, atMs: number, metrics: readonly ValueLike[]): void {
    this.#writer.appendReport(machineId, atMs, metrics)
  }

  discardCache (machineIds: readonly string[]): void {
    this.#writer.discardCache(machineIds)
  }

  latestAt (machineId: string, atMs: number): MetricValue[] | undefined {
    return this.#reader.latestAt(machineId, atMs)
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

  /**
   * Folds frames older than the raw retention into 5-minute rollups and deletes
   * them, one slice of machines per transaction so a large prune never blocks
   * ingest for long. Returns the number of values (raw samples) dropped.
   */
  async prune (nowMs: number): Promise<number> {
    return await pruneFrames(this.#db, nowMs, this.#retentionMs, this.#rollupRetentionMs)
  }

  /** Databases written before frames kept one row per value in `samples`: fold them into frames once. */
  #convertOldSamples (): void {
    const has = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'").get()
    if (has === undefined) return
    this.#db.transaction(() => {
      const machines = this.#db.prepare('SELECT DISTINCT machine_id FROM series').pluck().all() as string[]
      for (const machineId of machines) {
        const rows = this.#db.prepare(`SELECT s.name, s.labels_json AS lj, s.unit, x.ts, x.value
          FROM samples x JOIN series s ON s.id = x.series_id WHERE s.machine_id = ? ORDER BY x.ts`).all(machineId) as Array<{ name: string, lj: string, unit: Unit, ts: number, value: number }>
        this.append(rows.map(r => ({ machineId, name: r.name, labels: JSON.parse(r.lj) as Record<string, string>, unit: r.unit, atMs: r.ts, value: r.value })))
      }
      this.#db.exec('DROP TABLE samples')
    })()
  }

  status (): MetricStoreStatus {
    return { ready: true, backlog: 0 }
  }

  async close (): Promise<void> {}
}
