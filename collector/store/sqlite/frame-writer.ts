/**
 * The write path of the embedded store: a report's values become one frame
 * (frames.ts), their series interned in the `series` table on first use, within
 * the series budgets (per machine, in total). A report repeats the previous
 * one's layout, so the previous frame's series ids are tried first.
 */
import type { Db } from './db.js'
import type { SamplePoint } from '../metric-store.js'
import { sameLabels } from '../../../protocol/series.js'
import type { Statement } from 'better-sqlite3'
import { labelsJson, type ValueLike } from './frames.js'

export interface SeriesBudget {
  maxSeriesPerMachine: number
  onSeriesLimit?: (machineId: string, limit: number) => void
  maxSeriesTotal: number
  onGlobalSeriesLimit?: (machineId: string, limit: number, droppedPoints: number) => void
}

/** A machine's series ids, and the previous frame's metrics for the fast path (reports repeat their layout). */
interface MachineSeries {
  count: number
  byKey: Map<string, number>
  lastNames: string[]
  lastLabels: Array<Record<string, string> | undefined>
  lastIds: number[]
}

export class FrameWriter {
  readonly #db: Db
  readonly #maxSeries: number
  readonly #onSeriesLimit: SeriesBudget['onSeriesLimit']
  readonly #machines = new Map<string, MachineSeries>()
  readonly #limited = new Set<string>()
  readonly #maxSeriesTotal: number
  readonly #onGlobalSeriesLimit: SeriesBudget['onGlobalSeriesLimit']
  /** series in the table, all machines (undefined: count again, e.g. after a rollback) */
  #seriesTotal: number | undefined
  /** points the current append dropped at the global bound */
  #droppedGlobal = 0
  readonly #findSeries: Statement<[string, string, string], { id: number }>
  readonly #insertSeries: Statement<[string, string, string, string], unknown>
  readonly #insertFrame: Statement<[string, number, Buffer], unknown>
  readonly #getFrame: Statement<[string, number], { data: Buffer }>
  readonly #updateFrame: Statement<[Buffer, string, number], unknown>
  // Scratch space for one frame; grown when a report has more values.
  #ids = new Uint32Array(256)
  #vals = new Float64Array(256)
  // Marks series already in the frame being built (a report naming a series twice keeps the first).
  #marks = new Uint32Array(1024)
  #stamp = 0

  /** The `series` and `frames` tables must exist. */
  constructor (db: Db, budget: SeriesBudget) {
    this.#db = db
    this.#maxSeries = budget.maxSeriesPerMachine
    this.#onSeriesLimit = budget.onSeriesLimit
    this.#maxSeriesTotal = budget.maxSeriesTotal
    this.#onGlobalSeriesLimit = budget.onGlobalSeriesLimit
    this.#findSeries = db.prepare('SELECT id FROM series WHERE machine_id = ? AND name = ? AND labels_json = ?')
    this.#insertSeries = db.prepare('INSERT INTO series (machine_id, name, labels_json, unit) VALUES (?, ?, ?, ?)')
    this.#insertFrame = db.prepare('INSERT INTO frames (machine_id, ts, data) VALUES (?, ?, ?) ON CONFLICT (machine_id, ts) DO NOTHING')
    this.#getFrame = db.prepare('SELECT data FROM frames WHERE machine_id = ? AND ts = ?')
    this.#updateFrame = db.prepare('UPDATE frames SET data = ? WHERE machine_id = ? AND ts = ?')
  }

  append (points: readonly SamplePoint[]): void {
    // Consecutive points of the same machine and instant make one frame.
    let start = 0
    for (let i = 1; i <= points.length; i++) {
      if (i === points.length || points[i].machineId !== points[start].machineId || points[i].atMs !== points[start].atMs) {
        this.#writeFrame(points[start].machineId, points[start].atMs, points, start, i)
        start = i
      }
    }
  }

  appendReport (machineId: string, atMs: number, metrics: readonly ValueLike[]): void {
    this.#writeFrame(machineId, atMs, metrics, 0, metrics.length)
  }

  #writeFrame (machineId: string, atMs: number, values: readonly ValueLike[], from: number, to: number): void {
    if (!Number.isFinite(atMs)) return
    const ts = Math.round(atMs)
    if (this.#ids.length < to - from) {
      this.#ids = new Uint32Array(to - from)
      this.#vals = new Float64Array(to - from)
    }
    const ms = this.#machineSeries(machineId)
    const stamp = ++this.#stamp
    let n = 0
    for (let i = from; i < to; i++) {
      const m = values[i]
      if (!Number.isFinite(m.value)) continue
      const slot = i - from
      let id: number | undefined
      if (slot < ms.lastNames.length && ms.lastNames[slot] === m.name && sameLabels(ms.lastLabels[slot], m.labels)) {
        id = ms.lastIds[slot]
      } else {
        id = this.#seriesId(machineId, ms, m)
        if (id === undefined) continue
        ms.lastNames[slot] = m.name
        ms.lastLabels[slot] = m.labels
        ms.lastIds[slot] = id
      }
      if (id >= this.#marks.length) {
        const grown = new Uint32Array(Math.max(id + 1, this.#marks.length * 2))
        grown.set(this.#marks)
        this.#marks = grown
      }
      if (this.#marks[id] === stamp) continue
      this.#marks[id] = stamp
      this.#ids[n] = id
      this.#vals[n] = m.value
      n++
    }
    if (this.#droppedGlobal > 0) {
      const dropped = this.#droppedGlobal
      this.#droppedGlobal = 0
      this.#onGlobalSeriesLimit?.(machineId, this.#maxSeriesTotal, dropped)
    }
    if (n === 0) return
    const data = Buffer.allocUnsafe(12 * n)
    for (let i = 0; i < n; i++) {
      data.writeDoubleLE(this.#vals[i], 8 * i)
      data.writeUInt32LE(this.#ids[i], 8 * n + 4 * i)
    }
    if (this.#insertFrame.run(machineId, ts, data).changes === 0) this.#mergeFrame(machineId, ts, data)
  }

  /** A second report for the same instant: values of series already there are kept (first wins), new series are added. */
  #mergeFrame (machineId: string, ts: number, added: Buffer): void {
    const old = this.#getFrame.get(machineId, ts)!.data
    const on = old.length / 12
    const an = added.length / 12
    const vals: number[] = []
    const ids: number[] = []
    for (let i = 0; i < on; i++) { vals.push(old.readDoubleLE(8 * i)); ids.push(old.readUInt32LE(8 * on + 4 * i)) }
    const have = new Set(ids)
    for (let i = 0; i < an; i++) {
      const id = added.readUInt32LE(8 * an + 4 * i)
      if (!have.has(id)) { vals.push(added.readDoubleLE(8 * i)); ids.push(id) }
    }
    if (ids.length === on) return
    const n = ids.length
    const data = Buffer.allocUnsafe(12 * n)
    for (let i = 0; i < n; i++) { data.writeDoubleLE(vals[i], 8 * i); data.writeUInt32LE(ids[i], 8 * n + 4 * i) }
    this.#updateFrame.run(data, machineId, ts)
  }

  #machineSeries (machineId: string): MachineSeries {
    let ms = this.#machines.get(machineId)
    if (ms === undefined) {
      const count = (this.#db.prepare('SELECT COUNT(*) AS n FROM series WHERE machine_id = ?').get(machineId) as { n: number }).n
      ms = { count, byKey: new Map(), lastNames: [], lastLabels: [], lastIds: [] }
      this.#machines.set(machineId, ms)
    }
    return ms
  }

  /** The series id, created on first use; undefined once the machine has reached its series bound. */
  #seriesId (machineId: string, ms: MachineSeries, m: ValueLike): number | undefined {
    const lj = labelsJson(m.labels)
    const key = m.name + '\0' + lj
    let id = ms.byKey.get(key)
    if (id !== undefined) return id
    const row = this.#findSeries.get(machineId, m.name, lj)
    if (row !== undefined) {
      id = row.id
    } else {
      if (ms.count >= this.#maxSeries) {
        if (!this.#limited.has(machineId)) { this.#limited.add(machineId); this.#onSeriesLimit?.(machineId, this.#maxSeries) }
        return undefined
      }
      this.#seriesTotal ??= (this.#db.prepare('SELECT COUNT(*) AS n FROM series').get() as { n: number }).n
      if (this.#seriesTotal >= this.#maxSeriesTotal) {
        this.#droppedGlobal++
        return undefined
      }
      id = Number(this.#insertSeries.run(machineId, m.name, lj, m.unit).lastInsertRowid as number | bigint)
      ms.count++
      this.#seriesTotal++
    }
    ms.byKey.set(key, id)
    return id
  }

  discardCache (machineIds: readonly string[]): void {
    for (const id of machineIds) { this.#machines.delete(id); this.#limited.delete(id) }
    this.#seriesTotal = undefined
  }

}
