/**
 * Forecasts: when will a slowly trending series reach its limit?
 *
 * Points are averaged into buckets of windowMs / BUCKETS; the last BUCKETS bucket
 * means form a bounded, decimated history. When a bucket closes, a Theil–Sen line
 * (median of pairwise slopes, median intercept) is fitted: robust to the odd
 * temporary file or a reading glitch, and cheap at ≤ 48 points. The impact time is
 * where the line meets the limit. A forecast needs `minSpanMs` of history and a
 * fitted rise over the window of at least `minRise`, so a flat-but-noisy series
 * never forecasts.
 */
import type { ForecastRule } from './rules.js'
import type { Severity } from './finding.js'

export const BUCKETS = 48

/** Per (series, rule) state; plain JSON. */
export interface ForecastState {
  /** start of the bucket being filled, or -1 */
  bStart: number
  bSum: number
  bCount: number
  /** closed buckets: mid-times and means, oldest first */
  t: number[]
  v: number[]
  /** open severity, or '' */
  open: Severity | ''
}

export function newForecastState (): ForecastState {
  return { bStart: -1, bSum: 0, bCount: 0, t: [], v: [], open: '' }
}

export interface ForecastEvent {
  state: 'open' | 'clear'
  severity: Severity
  /** predicted time the limit is reached, epoch ms */
  impactAtMs: number
  /** metric unit per day */
  slopePerDay: number
  limit: number
  /** fitted value now */
  fitted: number
  /** bucket means used, for evidence */
  points: Array<[number, number]>
}

/** Theil–Sen fit of (t, v); returns slope per ms and intercept at t = 0. */
export function theilSen (t: number[], v: number[]): { slope: number, intercept: number } {
  const n = t.length
  const slopes: number[] = []
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) if (t[j] !== t[i]) slopes.push((v[j] - v[i]) / (t[j] - t[i]))
  }
  const slope = median(slopes)
  const res = new Array<number>(n)
  for (let i = 0; i < n; i++) res[i] = v[i] - slope * t[i]
  return { slope, intercept: median(res) }
}

function median (a: number[]): number {
  if (a.length === 0) return 0
  a.sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 === 1 ? a[m] : (a[m - 1] + a[m]) / 2
}

/**
 * Feed one point. `limit` is the rule's limit resolved for this machine
 * (e.g. from its memory size). Returns an event when the forecast opens,
 * escalates or clears.
 */
export function stepForecast (rule: ForecastRule, st: ForecastState, limit: number, atMs: number, value: number): ForecastEvent | undefined {
  const bucketMs = rule.windowMs / BUCKETS
  if (st.bStart < 0) { st.bStart = atMs; st.bSum = 0; st.bCount = 0 }
  if (atMs < st.bStart + bucketMs) {
    st.bSum += value
    st.bCount++
    return undefined
  }
  // close the bucket, start a new one with this point
  if (st.bCount > 0) {
    st.t.push(st.bStart + bucketMs / 2)
    st.v.push(st.bSum / st.bCount)
    while (st.t.length > BUCKETS || (st.t.length > 0 && st.t[0] < atMs - rule.windowMs)) { st.t.shift(); st.v.shift() }
  }
  st.bStart = atMs
  st.bSum = value
  st.bCount = 1
  return evaluate(rule, st, limit, atMs)
}

function evaluate (rule: ForecastRule, st: ForecastState, limit: number, atMs: number): ForecastEvent | undefined {
  const n = st.t.length
  let eta = Infinity
  let slope = 0
  let fitted = NaN
  if (n >= 4 && st.t[n - 1] - st.t[0] >= rule.minSpanMs && Number.isFinite(limit)) {
    const fit = theilSen(st.t, st.v)
    slope = fit.slope
    fitted = fit.intercept + slope * atMs
    const rise = Math.abs(slope) * (st.t[n - 1] - st.t[0])
    const minRise = rule.minRise ?? (rule.minRiseFraction ?? 0) * Math.abs(limit)
    const towards = limit > fitted ? slope > 0 : slope < 0
    if (towards && rise >= minRise) eta = Math.max(0, (limit - fitted) / slope)
  }
  const points = st.t.map((t, i): [number, number] => [t, Math.round(st.v[i] * 1000) / 1000]).slice(-12)
  const ev = (state: 'open' | 'clear', severity: Severity): ForecastEvent =>
    ({ state, severity, impactAtMs: atMs + Math.max(0, eta), slopePerDay: slope * 86_400_000, limit, fitted, points })
  if (st.open === '') {
    if (eta > rule.horizonMs) return undefined
    st.open = eta <= rule.criticalWithinMs ? 'critical' : 'warning'
    return ev('open', st.open)
  }
  if (eta > 1.5 * rule.horizonMs) {
    const sev = st.open
    st.open = ''
    return ev('clear', sev)
  }
  if (st.open === 'warning' && eta <= rule.criticalWithinMs) {
    st.open = 'critical'
    return ev('open', 'critical')
  }
  return undefined
}
