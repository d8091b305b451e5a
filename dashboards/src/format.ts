/**
 * Numbers, sizes and times for people: the viewer's language and time zone
 * (Intl), relative times such as "2 min ago" / "il y a 2 min".
 */
import { lang, t } from './i18n/index.js'

const cache = new Map<string, Intl.DateTimeFormat | Intl.RelativeTimeFormat | Intl.NumberFormat>()
function memo<T extends Intl.DateTimeFormat | Intl.RelativeTimeFormat | Intl.NumberFormat> (key: string, make: () => T): T {
  const k = lang() + '|' + key
  let f = cache.get(k)
  if (f === undefined) { f = make(); cache.set(k, f) }
  return f as T
}

function toMs (at: string | number | undefined): number | undefined {
  if (at === undefined) return undefined
  const ms = typeof at === 'number' ? at : Date.parse(at)
  return Number.isFinite(ms) ? ms : undefined
}

/** Date and time in the viewer's zone, e.g. "12/03/2025 14:05:10". */
export function formatDateTime (at: string | number | undefined): string {
  const ms = toMs(at)
  if (ms === undefined) return t('value.none')
  return memo('dt', () => new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'medium' })).format(ms)
}

/** Time of day in the viewer's zone, e.g. "14:05". */
export function formatClock (at: number): string {
  return memo('clock', () => new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit' })).format(at)
}

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 1000], ['minute', 60_000], ['hour', 3_600_000], ['day', 86_400_000], ['week', 604_800_000], ['month', 2_592_000_000], ['year', 31_536_000_000]
]

/** "2 min ago", "in 3 days", "il y a 2 min" — relative to now. */
export function formatRelative (at: string | number | undefined, nowMs: number = Date.now()): string {
  const ms = toMs(at)
  if (ms === undefined) return t('value.none')
  const diff = ms - nowMs
  const abs = Math.abs(diff)
  let unit: Intl.RelativeTimeFormatUnit = 'second'
  let size = 1000
  for (const [u, s] of STEPS) { if (abs >= s) { unit = u; size = s } }
  const rtf = memo('rel', () => new Intl.RelativeTimeFormat(lang(), { numeric: 'auto', style: 'short' }))
  if (unit === 'second' && abs < 10_000) return rtf.format(0, 'second')
  return rtf.format(Math.round(diff / size), unit)
}

export function formatNumber (v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return t('value.none')
  return memo('n' + digits, () => new Intl.NumberFormat(lang(), { maximumFractionDigits: digits, minimumFractionDigits: 0 })).format(v)
}

export function formatPct (v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return t('value.none')
  return memo('p' + digits, () => new Intl.NumberFormat(lang(), { style: 'percent', maximumFractionDigits: digits })).format(v / 100)
}

export function formatTemp (v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return t('value.none')
  return formatNumber(v, 0) + ' °C'
}

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB']
/** 1536 → "1.5 KB" (binary steps, short units both languages read). */
export function formatBytes (v: number | undefined, perSecond = false): string {
  if (v === undefined || !Number.isFinite(v)) return t('value.none')
  let i = 0
  let x = Math.abs(v)
  while (x >= 1024 && i < BYTE_UNITS.length - 1) { x /= 1024; i++ }
  const unit = lang() === 'fr' ? BYTE_UNITS[i].replace('B', 'o') : BYTE_UNITS[i]
  return formatNumber(Math.sign(v) * x, x < 10 && i > 0 ? 1 : 0) + ' ' + unit + (perSecond ? '/s' : '')
}

/** A value in the unit the protocol names (percent, bytes, celsius…). */
export function formatValue (v: number | undefined, unit: string): string {
  switch (unit) {
    case 'percent': return formatPct(v, 1)
    case 'bytes': return formatBytes(v)
    case 'bytes_per_second': return formatBytes(v, true)
    case 'celsius': return formatTemp(v)
    case 'seconds': return v === undefined ? t('value.none') : formatDuration(v * 1000)
    default: return formatNumber(v, 2)
  }
}

/** 90_000 → "1 min 30 s" (coarse: two largest units). */
export function formatDuration (ms: number): string {
  const parts: string[] = []
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1000]]
  let rest = Math.abs(ms)
  for (const [u, s] of units) {
    if (rest >= s) { parts.push(`${Math.floor(rest / s)} ${u === 'd' && lang() === 'fr' ? 'j' : u}`); rest %= s }
    if (parts.length === 2) break
  }
  return parts.length === 0 ? '0 s' : parts.join(' ')
}
