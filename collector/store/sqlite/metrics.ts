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
 */
import type { Db } from './db.js'
import { migrate } from './db.js'
import type {
  MetricStore, MetricStoreStatus, SamplePoint, SeriesInfo, SeriesQuery, SeriesResult
} from '../metric-store.js'
import type { MetricValue, Unit } from '../../../protocol/index.js'
import { sameLabels } from '../../../protocol/series.js'
import type { Statement } from 'better-sqlite3'
import { ROLLUP_MS, finish, mergeRollup, migrateRollup, pruneRollups, rollupPartials, type Partial } from './rollup.js'

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

/** One value to store: a protocol metric or a SamplePoint. */
interface ValueLike { name: string, labels?: Record<string, string>, unit: Unit, value: number }

interface SeriesRow { id: number, name: string, labels_json: string, unit: string }

/** A machine's series ids, and the previous frame's metrics for the fast path (reports repeat their layout). */
interface MachineSeries {
  count: number
  byKey: Map<string, number>
  lastNames: string[]
  lastLabels: Array<Record<string, string> | undefined>
  lastIds: number[]
}

const FRAME_MIGRATIONS = [`
  CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    data BLOB NOT NULL
  );
  CREATE UNIQUE INDEX frames_machine_ts ON frames(machine_id, ts);
`]

/** Machines rolled up and pruned per transaction before yielding to the event loop. */
const PRUNE_SLICE = 20

/** Canonical JSON for a label set: sorted keys, so one series has one row. */
export function labelsJson (labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '{}'
  const keys = Object.keys(labels)
  if (keys.length === 0) return '{}'
  keys.sort()
  const sorted: Record<string, string> = {}
  for (const k of keys) sorted[k] = labels[k]
  return JSON.stringify(sorted)
}

/** Adds a sample (in time order) to a bucket's partial aggregate. */
function addSample (p: Partial, ts: number, v: number): void {
  p.n++
  p.sum += v
  if (v < p.min) p.min = v
  if (v > p.max) p.max = v
  p.lastTs = ts
  p.last = v
}

/** Every (series id, value) of a frame record, in stored order. */
export function decodeFrame (data: Buffer): Array<{ id: number, value: number }> {
  const n = data.length / 12
  const out: Array<{ id: number, value: number }> = []
  for (let i = 0; i < n; i++) out.push({ id: data.readUInt32LE(8 * n + 4 * i), value: data.readDoubleLE(8 * i) })
  return out
}

/** Position of `id` in a frame of `n` values, or -1. */
function findId (data: Buffer, n: number, id: number): number {
  const base = 8 * n
  for (let i = 0; i < n; i++) if (data.readUInt32LE(base + 4 * i) === id) return i
  return -1
}

/** Frames read per chunk by a query before it yields to the event loop (a few ms of work). */
const QUERY_CHUNK_FRAMES = 500
/** Values (frames × series asked for) folded per chunk: a query of many series reads fewer frames per chunk. */
const QUERY_CHUNK_VALUES = 20_000

export class SqliteMetricStore implements MetricStore {
  readonly kind = 'sqlite' as const
  readonly #db: Db
  readonly #retentionMs: number
  readonly #rollupRetentionMs: number
  readonly #maxSeries: number
  readonly #onSeriesLimit: SqliteMetricStoreOptions['onSeriesLimit']
  readonly #machines = new Map<string, MachineSeries>()
  readonly #limited = new Set<string>()
  readonly #maxSeriesTotal: number
  readonly #onGlobalSeriesLimit: SqliteMetricStoreOptions['onGlobalSeriesLimit']
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

  constructor (db: Db, opts: SqliteMetricStoreOptions = {}) {
    this.#db = db
    this.#retentionMs = (opts.retentionDays ?? 30) * 86_400_000
    this.#rollupRetentionMs = (opts.rollupRetentionDays ?? 400) * 86_400_000
    this.#maxSeries = opts.maxSeriesPerMachine ?? 5000
    this.#onSeriesLimit = opts.onSeriesLimit
    this.#maxSeriesTotal = opts.maxSeriesTotal ?? 2_000_000
    this.#onGlobalSeriesLimit = opts.onGlobalSeriesLimit
    migrateRollup(db)
    migrate(db, { name: 'frames', sql: FRAME_MIGRATIONS })
    this.#findSeries = db.prepare('SELECT id FROM series WHERE machine_id = ? AND name = ? AND labels_json = ?')
    this.#insertSeries = db.prepare('INSERT INTO series (machine_id, name, labels_json, unit) VALUES (?, ?, ?, ?)')
    this.#insertFrame = db.prepare('INSERT INTO frames (machine_id, ts, data) VALUES (?, ?, ?) ON CONFLICT (machine_id, ts) DO NOTHING')
    this.#getFrame = db.prepare('SELECT data FROM frames WHERE machine_id = ? AND ts = ?')
    this.#updateFrame = db.prepare('UPDATE frames SET data = ? WHERE machine_id = ? AND ts = ?')
    this.#convertOldSamples()
  }

  async start (): Promise<void> {}

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

  latestAt (machineId: string, atMs: number): MetricValue[] | undefined {
    const data = this.#getFrame.get(machineId, Math.round(atMs))?.data
    if (data === undefined) return undefined
    const rows = this.#db.prepare('SELECT id, name, labels_json, unit FROM series WHERE machine_id = ?').all(machineId) as SeriesRow[]
    const byId = new Map(rows.map(r => [r.id, r]))
    const out: MetricValue[] = []
    for (const { id, value } of decodeFrame(data)) {
      const s = byId.get(id)
      if (s === undefined) continue
      out.push(s.labels_json === '{}'
        ? { name: s.name, unit: s.unit as Unit, value }
        : { name: s.name, unit: s.unit as Unit, value, labels: JSON.parse(s.labels_json) as Record<string, string> })
    }
    return out
  }

  async query (q: SeriesQuery): Promise<SeriesResult[]> {
    const rows = this.#db.prepare('SELECT id, name, labels_json, unit FROM series WHERE machine_id = ? AND name = ?')
      .all(q.machineId, q.name) as SeriesRow[]
    const wanted = q.labels === undefined ? undefined : labelsJson(q.labels)
    const series = rows.filter(s => wanted === undefined || s.labels_json === wanted)
    if (series.length === 0) return []
    const agg = q.aggregate ?? 'avg'
    const from = Math.floor(q.fromMs)
    const to = Math.ceil(q.toMs)
    // Older than the raw retention only 5-minute rollups remain: answer that part from them.
    const boundary = Number(this.#db.prepare("SELECT value FROM meta WHERE key = 'raw_pruned_before'").pluck().get() ?? 0)
    const useRollup = from < boundary
    const step = Math.max(useRollup ? ROLLUP_MS : 1, Math.floor(q.stepMs))
    const raw = await this.#rawPartials(q.machineId, series.map(s => s.id), from, to, step)
    const out: SeriesResult[] = []
    for (let j = 0; j < series.length; j++) {
      const s = series[j]
      let parts = raw[j]
      if (useRollup) {
        // Each sample is either still raw or already rolled up (a machine is rolled and
        // pruned in one transaction), so both together are exact, even mid-prune.
        parts = [...rollupPartials(this.#db, s.id, from, to, step), ...parts].sort((a, b) => a.b - b.b)
      }
      out.push({
        name: s.name,
        labels: JSON.parse(s.labels_json) as Record<string, string>,
        unit: s.unit as Unit,
        points: finish(parts, agg),
        resolution: useRollup ? '5m' : 'raw'
      })
      // One series at a time (its rollups, its points): many series must not add up to one long hold.
      if (j + 1 < series.length) await new Promise(resolve => setImmediate(resolve))
    }
    out.sort((a, b) => labelsJson(a.labels).localeCompare(labelsJson(b.labels)))
    return out
  }

  /**
   * Per-`step` partial aggregates of each series in `ids`, from the machine's frames
   * in [from, to). Read in chunks of QUERY_CHUNK_FRAMES frames, fewer when many
   * series are asked for (QUERY_CHUNK_VALUES values per chunk), with a cursor on ts
   * (the unique key with machine_id), yielding to the event loop between chunks: a
   * 30-day query of a dense machine once held the loop ~0.5 s while agents waited.
   */
  async #rawPartials (machineId: string, ids: readonly number[], fromMs: number, toMs: number, stepMs: number): Promise<Partial[][]> {
    const parts: Partial[][] = ids.map(() => [])
    const hint = ids.map(() => 0)
    const stmt = this.#db.prepare('SELECT ts, data FROM frames WHERE machine_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?')
    const chunk = Math.max(1, Math.min(QUERY_CHUNK_FRAMES, Math.floor(QUERY_CHUNK_VALUES / Math.max(1, ids.length))))
    let cursor = fromMs
    for (;;) {
      const rows = stmt.all(machineId, cursor, toMs, chunk) as Array<{ ts: number, data: Buffer }>
      for (const row of rows) {
        const { ts, data } = row
        const n = data.length / 12
        const b = ts - (ts % stepMs)
        for (let j = 0; j < ids.length; j++) {
          let pos = hint[j]
          if (pos >= n || data.readUInt32LE(8 * n + 4 * pos) !== ids[j]) {
            pos = findId(data, n, ids[j])
            if (pos < 0) continue
            hint[j] = pos
          }
          const v = data.readDoubleLE(8 * pos)
          const list = parts[j]
          const p = list.length > 0 ? list[list.length - 1] : undefined
          if (p !== undefined && p.b === b) addSample(p, ts, v)
          else list.push({ b, n: 1, sum: v, min: v, max: v, lastTs: ts, last: v })
        }
      }
      if (rows.length < chunk) break
      cursor = rows[rows.length - 1].ts + 1
      await new Promise(resolve => setImmediate(resolve))
    }
    return parts
  }

  async countSeries (machineId: string, name: string, labels?: Record<string, string>): Promise<number> {
    if (labels !== undefined) {
      return (this.#db.prepare('SELECT COUNT(*) AS n FROM series WHERE machine_id = ? AND name = ? AND labels_json = ?').get(machineId, name, labelsJson(labels)) as { n: number }).n
    }
    return (this.#db.prepare('SELECT COUNT(*) AS n FROM series WHERE machine_id = ? AND name = ?').get(machineId, name) as { n: number }).n
  }

  async listSeries (machineId: string): Promise<SeriesInfo[]> {
    const rows = this.#db.prepare('SELECT name, labels_json, unit FROM series WHERE machine_id = ? ORDER BY name, labels_json')
      .all(machineId) as SeriesRow[]
    return rows.map(r => ({ name: r.name, labels: JSON.parse(r.labels_json) as Record<string, string>, unit: r.unit as Unit }))
  }

  /**
   * Folds frames older than the raw retention into 5-minute rollups and deletes
   * them, one slice of machines per transaction so a large prune never blocks
   * ingest for long. Returns the number of values (raw samples) dropped.
   */
  async prune (nowMs: number): Promise<number> {
    // Cut on a bucket boundary so no 5-minute bucket is half raw, half rolled up.
    const cutoff = Math.floor((nowMs - this.#retentionMs) / ROLLUP_MS) * ROLLUP_MS
    // The boundary first: queries below it read rollups and whatever raw frames remain.
    this.#db.prepare("INSERT INTO meta (key, value) VALUES ('raw_pruned_before', ?) ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)").run(String(cutoff))
    const machines = this.#db.prepare('SELECT DISTINCT machine_id FROM frames WHERE ts < ?').pluck().all(cutoff) as string[]
    let total = 0
    for (let i = 0; i < machines.length; i += PRUNE_SLICE) {
      const slice = machines.slice(i, i + PRUNE_SLICE)
      total += this.#db.transaction(() => {
        let dropped = 0
        for (const machineId of slice) dropped += this.#rollUpMachine(machineId, cutoff)
        return dropped
      })()
      if (i + PRUNE_SLICE < machines.length) await new Promise(resolve => setImmediate(resolve))
    }
    pruneRollups(this.#db, nowMs - this.#rollupRetentionMs)
    return total
  }

  /** One machine's frames before `cutoff` into rollups, then deleted; returns the values dropped. */
  #rollUpMachine (machineId: string, cutoff: number): number {
    const buckets = new Map<string, Partial & { id: number }>()
    let values = 0
    const rows = this.#db.prepare('SELECT ts, data FROM frames WHERE machine_id = ? AND ts < ? ORDER BY ts')
      .iterate(machineId, cutoff) as IterableIterator<{ ts: number, data: Buffer }>
    for (const { ts, data } of rows) {
      const n = data.length / 12
      values += n
      const b = ts - (ts % ROLLUP_MS)
      for (let i = 0; i < n; i++) {
        const id = data.readUInt32LE(8 * n + 4 * i)
        const v = data.readDoubleLE(8 * i)
        const key = id + ':' + b
        const p = buckets.get(key)
        if (p === undefined) buckets.set(key, { id, b, n: 1, sum: v, min: v, max: v, lastTs: ts, last: v })
        else addSample(p, ts, v)
      }
    }
    for (const p of buckets.values()) mergeRollup(this.#db, p.id, p)
    this.#db.prepare('DELETE FROM frames WHERE machine_id = ? AND ts < ?').run(machineId, cutoff)
    return values
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
