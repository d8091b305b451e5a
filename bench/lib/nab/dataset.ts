/**
 * Reading a NAB-layout dataset (`data/<subset>/<name>.csv`, `labels/combined_windows.json`).
 * Used by the replay tool, the NAB benchmark and the NAB floor test; the
 * detection engine itself never reads files, and never reads labels.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { RowWindow } from './score.js'

/** One NAB data file, rows in file order (rows are identified by position). */
export interface NabSeries {
  /** `<subset>/<name>.csv` */
  rel: string
  subset: string
  name: string
  /** the file's own naive timestamps, `YYYY-MM-DD HH:MM:SS` */
  timestamps: string[]
  values: number[]
}

/** Trim a timestamp to `YYYY-MM-DD HH:MM:SS` (drops 'T', fractional seconds, 'Z'). */
export function normTimestamp (ts: string): string {
  let t = ts.trim().replace('T', ' ')
  if (t.endsWith('Z')) t = t.slice(0, -1)
  const dot = t.indexOf('.', 17)
  if (dot !== -1) t = t.slice(0, dot)
  return t
}

/** Parse a naive NAB timestamp as UTC epoch milliseconds. */
export function nabTimestampMs (ts: string): number {
  return Date.parse(ts.replace(' ', 'T') + 'Z')
}

/** Parse `timestamp,value` CSV text (CRLF or LF, blank lines ignored). */
export function parseNabCsv (text: string): { timestamps: string[], values: number[] } {
  const lines = text.split(/\r?\n/)
  const header = lines[0].split(',').map((s) => s.trim())
  const ti = header.indexOf('timestamp')
  const vi = header.indexOf('value')
  if (ti === -1 || vi === -1) throw new Error('CSV needs timestamp and value columns')
  const timestamps: string[] = []
  const values: number[] = []
  for (let j = 1; j < lines.length; j++) {
    const line = lines[j]
    if (line.trim() === '') continue
    const parts = line.split(',')
    timestamps.push(normTimestamp(parts[ti]))
    values.push(Number(parts[vi]))
  }
  return { timestamps, values }
}

/** Every `DIR/data/<subset>/*.csv`, sorted by subset then name. */
export function listNabFiles (nabDir: string): string[] {
  const dataDir = path.join(nabDir, 'data')
  const out: string[] = []
  for (const subset of fs.readdirSync(dataDir).sort()) {
    const sub = path.join(dataDir, subset)
    if (!fs.statSync(sub).isDirectory()) continue
    for (const f of fs.readdirSync(sub).sort()) if (f.endsWith('.csv')) out.push(`${subset}/${f}`)
  }
  return out
}

export function readNabSeries (nabDir: string, rel: string): NabSeries {
  const { timestamps, values } = parseNabCsv(fs.readFileSync(path.join(nabDir, 'data', rel), 'utf8'))
  const [subset, file] = rel.split('/')
  return { rel, subset, name: file.replace(/\.csv$/, ''), timestamps, values }
}

/** Label windows of every file, as `[start, end]` timestamp pairs. For scoring only. */
export function readNabWindows (nabDir: string): Record<string, Array<[string, string]>> {
  return JSON.parse(fs.readFileSync(path.join(nabDir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>
}

/** Map timestamp windows to row indices (first row with each timestamp). */
export function windowsToRows (timestamps: string[], pairs: Array<[string, string]>, where = ''): RowWindow[] {
  const firstIdx = new Map<string, number>()
  timestamps.forEach((t, i) => { if (!firstIdx.has(t)) firstIdx.set(t, i) })
  return pairs.map(([a, b]) => {
    const s = firstIdx.get(normTimestamp(a))
    const e = firstIdx.get(normTimestamp(b))
    if (s === undefined || e === undefined) throw new Error(`${where}: window [${a}, ${b}] does not match data timestamps`)
    return { start: s, end: e }
  })
}
