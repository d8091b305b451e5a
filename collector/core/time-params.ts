/** Parsing of time and duration query parameters, with errors that name the parameter. */
import { VigieError } from './errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `30s`, `5m`, `2h`, `7d`, or plain milliseconds. */
export function parseDuration (raw: string, param: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(raw.trim())
  if (m === null) throw new VigieError('VIGIE_ERR_VALIDATION', `${param} must be milliseconds or a duration such as 30s, 5m, 1h`, { path: '/' + param })
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms'])
  if (ms < 1) throw new VigieError('VIGIE_ERR_VALIDATION', `${param} must be at least 1 ms`, { path: '/' + param })
  return ms
}

/** An ISO date-time, epoch milliseconds, or a duration meaning that long before `relativeTo`. */
export function parseTime (raw: string, relativeTo: number, param: string): number {
  const s = raw.trim()
  if (/^\d{12,}$/.test(s)) return Number(s)
  if (/^\d+(?:\.\d+)?(ms|s|m|h|d|w)$/.test(s)) return relativeTo - parseDuration(s, param)
  const t = Date.parse(s)
  if (Number.isNaN(t)) throw new VigieError('VIGIE_ERR_VALIDATION', `${param} must be an ISO time, epoch ms, or a duration such as 1h`, { path: '/' + param })
  return t
}
