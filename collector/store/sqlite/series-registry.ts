/**
 * The series a remote metric store (InfluxDB) holds, recorded in the collector's
 * SQLite database, so the series budgets hold there as they do in the SQLite
 * store: at most `maxPerMachine` series per machine (VIGIE_MAX_SERIES_PER_MACHINE)
 * and `maxTotal` in all (VIGIE_MAX_SERIES_TOTAL). Points of a series past either
 * bound are dropped before they reach the outbox; series already known keep
 * storing. InfluxDB itself would take any number of series (each costs it index
 * memory), and one agent inventing labels could grow it without bound.
 *
 * `admit` runs inside the caller's ingest transaction: a rolled-back ingest takes
 * its new series back out of the table, and `discard` makes the cache forget them.
 * Series InfluxDB held before this table existed are recorded as their points next
 * arrive.
 */
import type { Statement } from 'better-sqlite3'
import type { SamplePoint } from '../metric-store.js'
import { migrate, type Db } from './db.js'
import { labelsJson } from './frames.js'

const MIGRATIONS = [
  `
  CREATE TABLE metric_series (
    machine_id TEXT NOT NULL,
    name TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (machine_id, name, labels_json)
  ) WITHOUT ROWID;
  `
]

export interface SeriesRegistryOptions {
  /** series one machine may create (default 5000) */
  maxPerMachine?: number
  /** series all machines together may create (default 2,000,000) */
  maxTotal?: number
  /** told once per machine when it reaches `maxPerMachine` */
  onMachineLimit?: (machineId: string, limit: number) => void
  /** told after each append in which points of new series were dropped at `maxTotal` */
  onGlobalLimit?: (machineId: string, limit: number, droppedPoints: number) => void
}

interface Known { count: number, keys: Set<string> }

export class SeriesRegistry {
  readonly #maxPerMachine: number
  readonly #maxTotal: number
  readonly #onMachineLimit: SeriesRegistryOptions['onMachineLimit']
  readonly #onGlobalLimit: SeriesRegistryOptions['onGlobalLimit']
  readonly #machines = new Map<string, Known>()
  readonly #limited = new Set<string>()
  /** series in the table, all machines (undefined: count again, e.g. after a rollback) */
  #total: number | undefined
  readonly #find: Statement<[string, string, string], { n: number }>
  readonly #insert: Statement<[string, string, string, string], unknown>
  readonly #countMachine: Statement<[string], { n: number }>
  readonly #countAll: Statement<[], { n: number }>

  constructor (db: Db, opts: SeriesRegistryOptions = {}) {
    migrate(db, { name: 'metric_series', sql: MIGRATIONS })
    this.#maxPerMachine = opts.maxPerMachine ?? 5000
    this.#maxTotal = opts.maxTotal ?? 2_000_000
    this.#onMachineLimit = opts.onMachineLimit
    this.#onGlobalLimit = opts.onGlobalLimit
    this.#find = db.prepare('SELECT 1 AS n FROM metric_series WHERE machine_id = ? AND name = ? AND labels_json = ?')
    this.#insert = db.prepare('INSERT INTO metric_series (machine_id, name, labels_json, unit) VALUES (?, ?, ?, ?)')
    this.#countMachine = db.prepare('SELECT COUNT(*) AS n FROM metric_series WHERE machine_id = ?')
    this.#countAll = db.prepare('SELECT COUNT(*) AS n FROM metric_series')
  }

  /** The points whose series is known or fits the budgets (new ones are recorded); the others are dropped. */
  admit (points: readonly SamplePoint[]): SamplePoint[] {
    const out: SamplePoint[] = []
    const droppedGlobal = new Map<string, number>()
    for (const p of points) {
      const known = this.#known(p.machineId)
      const lj = labelsJson(p.labels)
      const key = p.name + '\0' + lj
      if (!known.keys.has(key)) {
        if (this.#find.get(p.machineId, p.name, lj) === undefined) {
          if (known.count >= this.#maxPerMachine) {
            if (!this.#limited.has(p.machineId)) { this.#limited.add(p.machineId); this.#onMachineLimit?.(p.machineId, this.#maxPerMachine) }
            continue
          }
          this.#total ??= this.#countAll.get()!.n
          if (this.#total >= this.#maxTotal) {
            droppedGlobal.set(p.machineId, (droppedGlobal.get(p.machineId) ?? 0) + 1)
            continue
          }
          this.#insert.run(p.machineId, p.name, lj, p.unit)
          known.count++
          this.#total++
        }
        known.keys.add(key)
      }
      out.push(p)
    }
    for (const [machineId, n] of droppedGlobal) this.#onGlobalLimit?.(machineId, this.#maxTotal, n)
    return out
  }

  /** After a rolled-back ingest: forget what is cached about these machines. */
  discard (machineIds: readonly string[]): void {
    for (const id of machineIds) { this.#machines.delete(id); this.#limited.delete(id) }
    this.#total = undefined
  }

  #known (machineId: string): Known {
    let k = this.#machines.get(machineId)
    if (k === undefined) {
      k = { count: this.#countMachine.get(machineId)!.n, keys: new Set() }
      this.#machines.set(machineId, k)
    }
    return k
  }
}
