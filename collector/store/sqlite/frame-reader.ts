/**
 * The read path of the embedded store: series queries (raw frames, and the
 * 5-minute rollups below the raw retention boundary), series lists and counts,
 * and one report's values read back. Long reads go in chunks and yield to the
 * event loop between them, so a large query never holds ingest for long.
 */
import type { Db } from './db.js'
import type { SeriesInfo, SeriesQuery, SeriesResult } from '../metric-store.js'
import type { MetricValue, Unit } from '../../../protocol/index.js'
import type { Statement } from 'better-sqlite3'
import { decodeFrame, findId, labelsJson, type SeriesRow } from './frames.js'
import { ROLLUP_MS, addSample, finish, rollupPartials, type Partial } from './rollup.js'

/** Frames read per chunk by a query before it yields to the event loop (a few ms of work). */
const QUERY_CHUNK_FRAMES = 500
/** Values (frames × series asked for) folded per chunk: a query of many series reads fewer frames per chunk. */
const QUERY_CHUNK_VALUES = 20_000

export class FrameReader {
  readonly #db: Db
  readonly #getFrame: Statement<[string, number], { data: Buffer }>

  /** The `series`, `frames`, `samples_5m` and `meta` tables must exist. */
  constructor (db: Db) {
    this.#db = db
    this.#getFrame = db.prepare('SELECT data FROM frames WHERE machine_id = ? AND ts = ?')
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
}
