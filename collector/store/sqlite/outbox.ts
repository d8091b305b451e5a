/**
 * The durable metric outbox: samples accepted for a remote metric store
 * (InfluxDB) wait here, in the collector's SQLite database, until the remote
 * store has acknowledged them.
 *
 * `append` runs inside the caller's ingest transaction, so a report is recorded
 * as stored exactly when its samples are in the outbox. Rows are shipped in `id`
 * order and removed only as a prefix (`remove(upToId)`), which keeps the ids
 * contiguous: the backlog is `max(id) - min(id) + 1`, two index look-ups, and
 * exact even when a caller's transaction rolls back.
 *
 * A second small table holds rollup repairs: time ranges whose downsampled
 * buckets must be recomputed because late samples were shipped into them. They
 * are recorded in the same transaction that removes the shipped rows, so a crash
 * never loses one.
 */
import type { Statement } from 'better-sqlite3'
import type { Unit } from '../../../protocol/index.js'
import type { SamplePoint } from '../metric-store.js'
import { migrate, type Db } from './db.js'
import { labelsJson } from './frames.js'

/** One sample waiting in the outbox; `id` orders rows (ascending = accepted first). */
export interface OutboxRow extends SamplePoint {
  id: number
}

/** A range of rollup buckets to recompute from raw samples. */
export interface RollupRepair {
  /** rollup name, e.g. `5m`, `1h` */
  resolution: string
  /** inclusive start, epoch ms, aligned to the resolution */
  fromMs: number
  /** exclusive end, epoch ms, aligned to the resolution */
  toMs: number
  /** metric names whose buckets are affected */
  names: string[]
}

/** A stored repair; `id` is what {@link MetricOutbox.removeRepairs} takes. */
export interface StoredRollupRepair extends RollupRepair {
  id: number
}

const MIGRATIONS = [
  `
  CREATE TABLE metric_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    machine_id TEXT NOT NULL,
    name TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    unit TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    value REAL NOT NULL
  );
  CREATE TABLE metric_outbox_repairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resolution TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL,
    names_json TEXT NOT NULL
  );
  `
]

interface RawRow {
  id: number
  machine_id: string
  name: string
  labels_json: string
  unit: string
  at_ms: number
  value: number
}

interface RawRepair { id: number, resolution: string, from_ms: number, to_ms: number, names_json: string }

/** Durable, ordered queue of samples on the collector's SQLite database. */
export class MetricOutbox {
  readonly #db: Db
  readonly #insert: Statement<[string, string, string, string, number, number], unknown>
  readonly #peek: Statement<[number], RawRow>
  readonly #bounds: Statement<[], { lo: number | null, hi: number | null }>
  readonly #delete: Statement<[number], unknown>
  readonly #insertRepair: Statement<[string, number, number, string], unknown>
  readonly #peekRepairs: Statement<[number], RawRepair>
  readonly #countRepairs: Statement<[], { n: number }>
  readonly #deleteRepairs: Statement<[number], unknown>
  readonly #appendTx: (points: readonly SamplePoint[]) => void
  readonly #removeTx: (upToId: number, repairs: readonly RollupRepair[]) => number

  constructor (db: Db) {
    this.#db = db
    migrate(db, { name: 'metric_outbox', sql: MIGRATIONS })
    this.#insert = db.prepare('INSERT INTO metric_outbox (machine_id, name, labels_json, unit, at_ms, value) VALUES (?, ?, ?, ?, ?, ?)')
    this.#peek = db.prepare('SELECT id, machine_id, name, labels_json, unit, at_ms, value FROM metric_outbox ORDER BY id LIMIT ?')
    // Two sub-selects: SQLite answers a lone min() or max() from the index, but scans the table for both in one SELECT.
    this.#bounds = db.prepare('SELECT (SELECT min(id) FROM metric_outbox) AS lo, (SELECT max(id) FROM metric_outbox) AS hi')
    this.#delete = db.prepare('DELETE FROM metric_outbox WHERE id <= ?')
    this.#insertRepair = db.prepare('INSERT INTO metric_outbox_repairs (resolution, from_ms, to_ms, names_json) VALUES (?, ?, ?, ?)')
    this.#peekRepairs = db.prepare('SELECT id, resolution, from_ms, to_ms, names_json FROM metric_outbox_repairs ORDER BY id LIMIT ?')
    this.#countRepairs = db.prepare('SELECT count(*) AS n FROM metric_outbox_repairs')
    this.#deleteRepairs = db.prepare('DELETE FROM metric_outbox_repairs WHERE id <= ?')
    // Nested in the caller's transaction these become savepoints, so the caller's
    // rollback also takes the rows back out.
    this.#appendTx = db.transaction((points: readonly SamplePoint[]) => {
      for (const p of points) {
        this.#insert.run(p.machineId, p.name, labelsJson(p.labels), p.unit, Math.round(p.atMs), p.value)
      }
    })
    this.#removeTx = db.transaction((upToId: number, repairs: readonly RollupRepair[]) => {
      const n = this.#delete.run(upToId).changes
      for (const r of repairs) this.#insertRepair.run(r.resolution, r.fromMs, r.toMs, JSON.stringify(r.names))
      return n
    })
  }

  /** Queue samples, synchronously; atMs is rounded to whole milliseconds. */
  append (points: readonly SamplePoint[]): void {
    if (points.length === 0) return
    this.#appendTx(points)
  }

  /** The oldest `n` queued samples, in acceptance order. */
  peek (n: number): OutboxRow[] {
    return this.#peek.all(n).map((r) => ({
      id: r.id,
      machineId: r.machine_id,
      name: r.name,
      labels: JSON.parse(r.labels_json) as Record<string, string>,
      unit: r.unit as Unit,
      atMs: r.at_ms,
      value: r.value
    }))
  }

  /**
   * Drop every row with `id <= upToId` (they were acknowledged) and record the
   * rollup repairs they call for, in one transaction. Returns rows removed.
   */
  remove (upToId: number, repairs: readonly RollupRepair[] = []): number {
    return this.#removeTx(upToId, repairs)
  }

  /** Samples waiting. */
  count (): number {
    const b = this.#bounds.get()
    return b === undefined || b.lo === null || b.hi === null ? 0 : b.hi - b.lo + 1
  }

  /** The oldest `n` pending rollup repairs. */
  peekRepairs (n: number): StoredRollupRepair[] {
    return this.#peekRepairs.all(n).map((r) => ({
      id: r.id,
      resolution: r.resolution,
      fromMs: r.from_ms,
      toMs: r.to_ms,
      names: JSON.parse(r.names_json) as string[]
    }))
  }

  /** Drop repairs with `id <= upToId` (they were carried out). */
  removeRepairs (upToId: number): void {
    this.#deleteRepairs.run(upToId)
  }

  /** Rollup repairs waiting. */
  repairCount (): number {
    return this.#countRepairs.get()?.n ?? 0
  }

  /** True while the handle is inside a transaction: rows appended in it may still roll back. */
  get inTransaction (): boolean {
    return this.#db.inTransaction
  }
}
