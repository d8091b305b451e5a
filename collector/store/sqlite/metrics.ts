/**
 * Samples in the embedded SQLite database: one row per (series, time), with the
 * series (machine, name, labels, unit) interned in their own table.
 */
import type { Db } from './db.js'
import type {
  MetricStore, MetricStoreStatus, SamplePoint, SeriesInfo, SeriesQuery, SeriesResult
} from '../metric-store.js'
import type { Unit } from '../../../protocol/index.js'
import type { Statement } from 'better-sqlite3'
import { ROLLUP_MS, finish, migrateRollup, pruneRollups, rawPartials, rollUpBefore, rollupPartials } from './rollup.js'

export interface SqliteMetricStoreOptions {
  /** raw samples older than this are folded into 5-minute rollups and pruned (default 30) */
  retentionDays?: number
  /** 5-minute rollups older than this are pruned (default 400) */
  rollupRetentionDays?: number
  /** a machine's points for series beyond this many are dropped (default 5000): an agent cannot grow the store without bound */
  maxSeriesPerMachine?: number
  /** told once per machine when it reaches the series bound */
  onSeriesLimit?: (machineId: string, limit: number) => void
}

interface SeriesRow { id: number, name: string, labels_json: string, unit: string }

/** Canonical JSON for a label set: sorted keys, so one series has one row. */
export function labelsJson (labels: Record<string, string>): string {
  const keys = Object.keys(labels)
  if (keys.length === 0) return '{}'
  keys.sort()
  const sorted: Record<string, string> = {}
  for (const k of keys) sorted[k] = labels[k]
  return JSON.stringify(sorted)
}

export class SqliteMetricStore implements MetricStore {
  readonly kind = 'sqlite' as const
  readonly #db: Db
  readonly #retentionMs: number
  readonly #rollupRetentionMs: number
  readonly #maxSeries: number
  readonly #onSeriesLimit: SqliteMetricStoreOptions['onSeriesLimit']
  readonly #seriesCount = new Map<string, number>()
  readonly #limited = new Set<string>()
  /** machineId + '\0' + name + '\0' + labelsJson → series id; bounded by the number of series. */
  readonly #seriesIds = new Map<string, number>()
  readonly #findSeries: Statement<[string, string, string], { id: number }>
  readonly #insertSeries: Statement<[string, string, string, string], unknown>
  readonly #insertSample: Statement<[number, number, number], unknown>

  constructor (db: Db, opts: SqliteMetricStoreOptions = {}) {
    this.#db = db
    this.#retentionMs = (opts.retentionDays ?? 30) * 86_400_000
    this.#rollupRetentionMs = (opts.rollupRetentionDays ?? 400) * 86_400_000
    this.#maxSeries = opts.maxSeriesPerMachine ?? 5000
    this.#onSeriesLimit = opts.onSeriesLimit
    migrateRollup(db)
    this.#findSeries = db.prepare('SELECT id FROM series WHERE machine_id = ? AND name = ? AND labels_json = ?')
    this.#insertSeries = db.prepare('INSERT INTO series (machine_id, name, labels_json, unit) VALUES (?, ?, ?, ?)')
    this.#insertSample = db.prepare('INSERT OR IGNORE INTO samples (series_id, ts, value) VALUES (?, ?, ?)')
  }

  async start (): Promise<void> {}

  append (points: readonly SamplePoint[]): void {
    for (const p of points) {
      if (!Number.isFinite(p.value)) continue
      const id = this.#seriesId(p.machineId, p.name, p.labels, p.unit)
      if (id !== undefined) this.#insertSample.run(id, p.atMs, p.value)
    }
  }

  /** The series id, created on first use; undefined once the machine has reached its series bound. */
  #seriesId (machineId: string, name: string, labels: Record<string, string>, unit: Unit): number | undefined {
    const lj = labelsJson(labels)
    const key = machineId + '\0' + name + '\0' + lj
    let id = this.#seriesIds.get(key)
    if (id !== undefined) return id
    const row = this.#findSeries.get(machineId, name, lj)
    if (row !== undefined) {
      id = row.id
    } else {
      let count = this.#seriesCount.get(machineId)
      if (count === undefined) count = (this.#db.prepare('SELECT COUNT(*) AS n FROM series WHERE machine_id = ?').get(machineId) as { n: number }).n
      if (count >= this.#maxSeries) {
        if (!this.#limited.has(machineId)) { this.#limited.add(machineId); this.#onSeriesLimit?.(machineId, this.#maxSeries) }
        return undefined
      }
      id = Number(this.#insertSeries.run(machineId, name, lj, unit).lastInsertRowid as number | bigint)
      this.#seriesCount.set(machineId, count + 1)
    }
    this.#seriesIds.set(key, id)
    return id
  }

  async query (q: SeriesQuery): Promise<SeriesResult[]> {
    const rows = this.#db.prepare('SELECT id, name, labels_json, unit FROM series WHERE machine_id = ? AND name = ?')
      .all(q.machineId, q.name) as SeriesRow[]
    const wanted = q.labels === undefined ? undefined : labelsJson(q.labels)
    const agg = q.aggregate ?? 'avg'
    const from = Math.floor(q.fromMs)
    const to = Math.ceil(q.toMs)
    // Older than the raw retention only 5-minute rollups remain: answer that part from them.
    const boundary = Number(this.#db.prepare("SELECT value FROM meta WHERE key = 'raw_pruned_before'").pluck().get() ?? 0)
    const useRollup = from < boundary
    const step = Math.max(useRollup ? ROLLUP_MS : 1, Math.floor(q.stepMs))
    const out: SeriesResult[] = []
    for (const s of rows) {
      if (wanted !== undefined && s.labels_json !== wanted) continue
      const parts = useRollup
        ? [...rollupPartials(this.#db, s.id, from, Math.min(to, boundary), step), ...rawPartials(this.#db, s.id, Math.max(from, boundary), to, step)]
        : rawPartials(this.#db, s.id, from, to, step)
      out.push({
        name: s.name,
        labels: JSON.parse(s.labels_json) as Record<string, string>,
        unit: s.unit as Unit,
        points: finish(parts, agg),
        resolution: useRollup ? '5m' : 'raw'
      })
    }
    out.sort((a, b) => labelsJson(a.labels).localeCompare(labelsJson(b.labels)))
    return out
  }

  async listSeries (machineId: string): Promise<SeriesInfo[]> {
    const rows = this.#db.prepare('SELECT name, labels_json, unit FROM series WHERE machine_id = ? ORDER BY name, labels_json')
      .all(machineId) as SeriesRow[]
    return rows.map(r => ({ name: r.name, labels: JSON.parse(r.labels_json) as Record<string, string>, unit: r.unit as Unit }))
  }

  async prune (nowMs: number): Promise<number> {
    // Cut on a bucket boundary so no 5-minute bucket is half raw, half rolled up.
    const cutoff = Math.floor((nowMs - this.#retentionMs) / ROLLUP_MS) * ROLLUP_MS
    this.#db.transaction(() => {
      rollUpBefore(this.#db, cutoff)
      this.#db.prepare("INSERT INTO meta (key, value) VALUES ('raw_pruned_before', ?) ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)").run(String(cutoff))
    })()
    pruneRollups(this.#db, nowMs - this.#rollupRetentionMs)
    // Delete in slices so a large prune never blocks ingest for long.
    const del = this.#db.prepare(
      'DELETE FROM samples WHERE (series_id, ts) IN (SELECT series_id, ts FROM samples WHERE ts < ? LIMIT 5000)'
    )
    let total = 0
    for (;;) {
      const n = del.run(cutoff).changes
      total += n
      if (n < 5000) break
      await new Promise(resolve => setImmediate(resolve))
    }
    return total
  }

  status (): MetricStoreStatus {
    return { ready: true, backlog: 0 }
  }

  async close (): Promise<void> {}
}
