/**
 * The InfluxDB 1.x schema of Vigie's metrics, as pure functions: names, retention
 * policies, continuous queries, tag encoding and the InfluxQL the store sends.
 * docs/storage.md describes the same schema for operators and Grafana users.
 *
 * - one measurement per metric name (`cpu.load_pct`), field `value` (float);
 * - tags: `machine`, `unit`, and the series' own labels (`mount`, `iface`, …);
 *   a label whose name is reserved here (`machine`, `unit`, `time`, `value`)
 *   is stored with a leading underscore (labels never start with one);
 * - retention policies `raw` (DEFAULT), `rollup_5m`, `rollup_1h`; the rollups
 *   hold fields `sum`, `count`, `min`, `max`, `last` per bucket, so an average
 *   over several buckets is exact (`sum(sum) / sum(count)`).
 */
import type { Unit } from '../../../protocol/index.js'
import type { Aggregate, SeriesQuery } from '../metric-store.js'

export const RP_RAW = 'raw'
export const MINUTE_MS = 60_000
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000

/** A downsampled resolution kept by a continuous query. */
export interface Rollup {
  /** as reported in SeriesResult.resolution */
  name: '5m' | '1h'
  /** retention policy holding it */
  rp: string
  /** bucket width, ms */
  intervalMs: number
}

export const ROLLUPS: readonly Rollup[] = [
  { name: '5m', rp: 'rollup_5m', intervalMs: 5 * MINUTE_MS },
  { name: '1h', rp: 'rollup_1h', intervalMs: HOUR_MS }
]

/** When a continuous query runs (`EVERY`) and how far back each run recomputes (`FOR`). */
export interface Resample {
  everyMs: number
  forMs: number
}

/**
 * Production cadence: each bucket is recomputed on three runs, so samples up to
 * a few minutes late still land in the rollups without a repair.
 */
export const DEFAULT_RESAMPLE: Readonly<Record<Rollup['name'], Resample>> = {
  '5m': { everyMs: 5 * MINUTE_MS, forMs: 15 * MINUTE_MS },
  '1h': { everyMs: HOUR_MS, forMs: 3 * HOUR_MS }
}

/** Extra slack for the continuous-query service's own scheduling delay. */
const CQ_SLACK_MS = MINUTE_MS

/**
 * Samples older than this (relative to when they reach InfluxDB) may have missed
 * every continuous-query run that covers their bucket: the store repairs those
 * buckets with an explicit `SELECT … INTO`. Derived from the `EVERY`/`FOR` window:
 * the next run, at most `every` away, recomputes buckets starting after `now + every - for`.
 */
export function lateAfterMs (rollup: Rollup, resample: Resample): number {
  return Math.max(0, resample.forMs - resample.everyMs - rollup.intervalMs - CQ_SLACK_MS)
}

const RESERVED_TAGS = new Set(['machine', 'unit', 'time', 'value'])

/** Tags of one point: machine, unit and the encoded labels (empty values left out: InfluxDB has no empty tags). */
export function toTags (machineId: string, unit: string, labels: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = { machine: machineId, unit }
  for (const k of Object.keys(labels)) {
    const v = labels[k]
    if (v === '') continue
    // Line protocol has no escape for newlines in tag values.
    tags[RESERVED_TAGS.has(k) ? '_' + k : k] = v.replace(/[\r\n]/g, ' ')
  }
  return tags
}

/** Inverse of {@link toTags}: absent/empty tags are not labels. */
export function fromTags (tags: Record<string, string>): { machineId: string, unit: Unit, labels: Record<string, string> } {
  const labels: Record<string, string> = {}
  let machineId = ''
  let unit = ''
  for (const k of Object.keys(tags)) {
    const v = tags[k]
    if (v === '' || v === undefined || v === null) continue
    if (k === 'machine') machineId = v
    else if (k === 'unit') unit = v
    else labels[k.startsWith('_') ? k.slice(1) : k] = v
  }
  return { machineId, unit: unit as Unit, labels }
}

/** `"identifier"` for InfluxQL. */
export function ident (s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'
}

/** `'string literal'` for InfluxQL. */
export function literal (s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"
}

/** Measurement name as the line protocol wants it (commas and spaces escaped). */
export function lineMeasurement (name: string): string {
  return name.replace(/[, ]/g, '\\$&')
}

/** InfluxQL duration literal for whole milliseconds, in the largest exact unit. */
export function duration (ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/** A Go duration as InfluxDB prints it (`168h0m0s`, `0s` = forever) in ms. */
export function parseGoDurationMs (s: string): number {
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)/g
  const unit: Record<string, number> = { h: HOUR_MS, m: MINUTE_MS, s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 }
  let total = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) total += Number(m[1]) * unit[m[2]]
  return Math.round(total)
}

/** The fields a rollup bucket holds, computed from raw values. */
const ROLLUP_SELECT = 'sum("value") AS "sum", count("value") AS "count", min("value") AS "min", max("value") AS "max", last("value") AS "last"'

/**
 * Stable name of a rollup's continuous query; it changes when the definition
 * does. It carries the database name because InfluxDB 1.6 tracks a CQ's last
 * run by name alone: two databases with same-named CQs (two collectors sharing
 * one server) would otherwise starve each other's runs.
 */
export function cqName (database: string, rollup: Rollup, resample: Resample): string {
  return `vigie_rollup_${rollup.name}_${resample.everyMs}_${resample.forMs}_${database}`
}

/** `CREATE CONTINUOUS QUERY` for one rollup, reading every raw measurement. */
export function createCqStatement (database: string, rollup: Rollup, resample: Resample): string {
  return `CREATE CONTINUOUS QUERY ${ident(cqName(database, rollup, resample))} ON ${ident(database)} ` +
    `RESAMPLE EVERY ${duration(resample.everyMs)} FOR ${duration(resample.forMs)} BEGIN ` +
    `SELECT ${ROLLUP_SELECT} INTO ${ident(database)}.${ident(rollup.rp)}.:MEASUREMENT ` +
    `FROM ${ident(database)}.${ident(RP_RAW)}./.*/ GROUP BY time(${duration(rollup.intervalMs)}), * END`
}

/** Recompute a rollup's buckets in `[fromMs, toMs)` for some measurements (same output as its continuous query). */
export function repairStatement (database: string, rollup: Rollup, names: readonly string[], fromMs: number, toMs: number): string {
  const from = names.map((n) => `${ident(database)}.${ident(RP_RAW)}.${ident(n)}`).join(', ')
  return `SELECT ${ROLLUP_SELECT} INTO ${ident(database)}.${ident(rollup.rp)}.:MEASUREMENT FROM ${from} ` +
    `WHERE time >= ${fromMs}ms AND time < ${toMs}ms GROUP BY time(${duration(rollup.intervalMs)}), * fill(none)`
}

/**
 * The resolution that answers a step: the coarsest rollup whose bucket width
 * divides the step (so every answer bucket is made of whole rollup buckets),
 * else raw. 15 s → raw, 5 min/15 min → 5m, 1 h/1 d → 1h, 7 min → raw.
 */
export function pickResolution (stepMs: number): Rollup | undefined {
  for (let i = ROLLUPS.length - 1; i >= 0; i--) {
    const r = ROLLUPS[i]
    if (stepMs >= r.intervalMs && stepMs % r.intervalMs === 0) return r
  }
  return undefined
}

function selectExpr (aggregate: Aggregate, rollup: Rollup | undefined): string {
  if (rollup === undefined) {
    const fn = aggregate === 'avg' ? 'mean' : aggregate
    return `${fn}("value"::field)`
  }
  switch (aggregate) {
    case 'avg': return 'sum("sum"::field) / sum("count"::field)'
    case 'min': return 'min("min"::field)'
    case 'max': return 'max("max"::field)'
    case 'last': return 'last("last"::field)'
  }
}

/**
 * The InfluxQL for one SeriesQuery. Label filters narrow the scan; exact label
 * equality (no extra labels) is checked on the answer, since a missing tag
 * cannot be told from an empty one in InfluxQL. On a rollup the start is
 * aligned down to the rollup's bucket, so the first bucket is whole.
 */
export function seriesQueryStatement (database: string, q: SeriesQuery, rollup: Rollup | undefined): string {
  const rp = rollup === undefined ? RP_RAW : rollup.rp
  const fromMs = rollup === undefined ? q.fromMs : Math.floor(q.fromMs / rollup.intervalMs) * rollup.intervalMs
  const where = [`"machine" = ${literal(q.machineId)}`]
  if (q.labels !== undefined) {
    const tags = toTags(q.machineId, '', q.labels)
    for (const k of Object.keys(tags)) {
      if (k === 'machine' || k === 'unit') continue
      where.push(`${ident(k)} = ${literal(tags[k])}`)
    }
  }
  where.push(`time >= ${fromMs}ms`, `time < ${q.toMs}ms`)
  return `SELECT ${selectExpr(q.aggregate ?? 'avg', rollup)} AS "v" ` +
    `FROM ${ident(database)}.${ident(rp)}.${ident(q.name)} WHERE ${where.join(' AND ')} ` +
    `GROUP BY time(${q.stepMs}ms), * fill(none)`
}

/** `SHOW SERIES` for one machine, across every measurement. */
export function listSeriesStatement (database: string, machineId: string): string {
  return `SHOW SERIES ON ${ident(database)} WHERE "machine" = ${literal(machineId)}`
}

/**
 * Split a series key as `SHOW SERIES` prints it (`cpu.load_pct,machine=m1,unit=percent`,
 * line-protocol escaping: `\,` `\ ` `\=`) into measurement and tags.
 */
export function parseSeriesKeyLine (key: string): { measurement: string, tags: Record<string, string> } {
  const parts: string[] = []
  let cur = ''
  for (let i = 0; i < key.length; i++) {
    const c = key[i]
    if (c === '\\' && i + 1 < key.length) {
      cur += c + key[i + 1]
      i++
    } else if (c === ',') {
      parts.push(cur)
      cur = ''
    } else {
      cur += c
    }
  }
  parts.push(cur)
  const unescape = (s: string): string => s.replace(/\\([,= \\])/g, '$1')
  const tags: Record<string, string> = {}
  for (const part of parts.slice(1)) {
    let eq = -1
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '\\') { i++; continue }
      if (part[i] === '=') { eq = i; break }
    }
    if (eq === -1) continue
    tags[unescape(part.slice(0, eq))] = unescape(part.slice(eq + 1))
  }
  return { measurement: unescape(parts[0]), tags }
}
