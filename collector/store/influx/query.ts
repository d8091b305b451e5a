/**
 * Reads of the InfluxDB store: series queries, series lists and counts.
 *
 * A query is read in windows of whole buckets, each answer at most
 * ~QUERY_WINDOW_POINTS points, so no single InfluxDB answer is parsed in one
 * long piece. Reads never touch the shipper's health: a failed read answers
 * VIGIE_ERR_METRIC_STORE_UNAVAILABLE to its caller and nothing else.
 */
import type { SeriesInfo, SeriesQuery, SeriesResult } from '../metric-store.js'
import { seriesKey } from '../../../protocol/index.js'
import { MetricStoreError } from './errors.js'
import { readRaw, type InfluxLink } from './link.js'
import { fromTags, listSeriesStatement, parseSeriesKeyLine, pickResolution, seriesQueryStatement } from './schema.js'

/** Points (buckets × series) one query window asks InfluxDB for; the first window, series unknown yet, is FIRST_WINDOW_BUCKETS buckets. */
export const QUERY_WINDOW_POINTS = 20_000
const FIRST_WINDOW_BUCKETS = 500

export class InfluxReader {
  readonly #link: InfluxLink

  constructor (link: InfluxLink) {
    this.#link = link
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
      const res = await readRaw(this.#link, seriesQueryStatement(this.#link.db, { ...q, fromMs: start, toMs: end }, rollup), 'querying a series')
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
    const res = await readRaw(this.#link, listSeriesStatement(this.#link.db, machineId), 'listing series')
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
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
