/**
 * Learned baseline: a streaming anomaly detector for one series.
 *
 * Each point is fed once, in order, with no look-ahead. The detector asks one
 * question at several time scales: "has this series ever looked like this?"
 * It follows six features of the stream:
 *   f0 the value, f1 a fast mean (≈3 points), f2 a slow mean (≈18 points),
 *   f3 the local variability (mean |Δ| over ≈12 points),
 *   f4 the residual against a learned time-of-day profile (plus a slowly
 *      adapting offset, so a level shift does not ruin the profile), f5 its mean.
 * For each feature it keeps a centre and record bounds (the highest and lowest
 * values seen, slowly decaying toward the centre). A point is novel when a
 * feature breaks a record by more than a margin, relative to how far that record
 * already is from the centre. Records are what a helpdesk cares about: a CPU
 * that spikes every hour is not news; one that spikes higher, longer, or at
 * night when it never did is. A noisy series widens its own bounds; a series
 * that has been flat makes a small change news.
 *
 * The seasonal features count only while the profile predicts the series at
 * least about as well as a plain moving level (model selection on the mean
 * absolute error), so a series without a daily rhythm is judged on f0–f3 only. With `weekly`, weekend
 * days get their own profile (borrowing the weekday bin until they have one).
 *
 * After an alert the detector stays open (no new alert) until the series has
 * been unremarkable for `clearPoints` points and at least `refractoryPoints`
 * have passed: the caller sees one finding per episode. A far stronger novelty
 * inside an open episode (≥ escalateFactor × its peak) is reported as an
 * escalation of the same episode, not a new one.
 *
 * A second question, "are its predictions worse than usual?", is an anomaly
 * likelihood layer (after Ahmad & Purdy 2016; see likelihood()): it catches
 * bursts of unusual movement that break no record.
 *
 * Gaps (a laptop asleep) restart the short means instead of reading the jump as
 * a change. State: 49 numbers plus a Float32 profile of 2 × 96 bins
 * (≈ 1.1 KB in memory, ≈ 2 KB as exported JSON).
 */

/** Tunables; defaults are the values documented in docs/detection.md. */
export interface BaselineParams {
  /** points before any alert may be raised */
  warmupPoints: number
  /** EWMA weight of the level model */
  levelAlpha: number
  /** seasonal profile bins per day */
  binsPerDay: number
  /** EWMA weight of one day's update of a seasonal bin */
  seasonAlpha: number
  /** EWMA weight of the seasonal offset */
  offsetAlpha: number
  /** days of history before the seasonal model may be used */
  seasonMinDays: number
  /** EWMA weight of the model-selection error averages */
  selectAlpha: number
  /** seasonal features count only while seasonal error < ratio × level error */
  seasonScoreRatio: number
  /** keep a separate weekend profile (used where it has data) */
  weekly: boolean
  /** novelty margins of f0…f5, relative to the record's distance from the centre */
  noveltyMargin: [number, number, number, number, number, number]
  /** per-point decay of the record bounds toward the centre */
  recordDecay: number
  /** EWMA weight of the feature centres */
  centerAlpha: number
  /** novelty below which a point counts as calm */
  calmLevel: number
  /** calm points needed to close an episode */
  clearPoints: number
  /** minimum points between two alerts */
  refractoryPoints: number
  /** a gap longer than this many typical intervals is not read as a jump in variability */
  gapIntervals: number
  /** floor on a record's distance from the centre, as a fraction of the value's record range */
  spreadFloor: number
  /** an open episode escalates on a novelty this many times its peak (and ≥ this value) */
  escalateFactor: number
  /**
   * anomaly likelihood of the prediction error: a point is novel when the short-term
   * mean of the error is this many standard deviations above its long-term mean
   * (0 = off)
   */
  likelihoodZ: number
  /** points of the error's long-term mean and spread (EWMA of weight 1 / this) */
  likelihoodPoints: number
}

export const DEFAULT_BASELINE_PARAMS: Readonly<BaselineParams> = Object.freeze({
  warmupPoints: 150,
  levelAlpha: 0.1,
  binsPerDay: 96,
  seasonAlpha: 0.3,
  offsetAlpha: 0.02,
  seasonMinDays: 2,
  selectAlpha: 0.005,
  seasonScoreRatio: 1,
  weekly: true,
  noveltyMargin: [0.2, 0.2, 0.1, 0.3, 1, 1] as [number, number, number, number, number, number],
  recordDecay: 0.0002,
  centerAlpha: 0.01,
  calmLevel: 0.4,
  clearPoints: 60,
  refractoryPoints: 150,
  gapIntervals: 6,
  escalateFactor: 3,
  spreadFloor: 0.05,
  likelihoodZ: 4,
  likelihoodPoints: 8000
})

const DAY_MS = 86_400_000
const NF = 6
/** scalars of the likelihood layer: points, 3 error scales, short mean, long mean, long variance */
const NL = 7
/** the likelihood layer's novelty is reported as this feature */
const LIKELIHOOD_FEATURE = 6
const NONE = -1e308 // NaN stand-in in JSON

/** What one point did to the detector. */
export interface BaselineStep {
  /** a new anomaly episode starts at this point */
  opened: boolean
  /** the open episode ended at this point */
  cleared: boolean
  /** during an open episode, a far stronger novelty (≥ escalateFactor × the episode's peak) */
  escalated: boolean
  /** largest feature novelty (≥ 1 = record broken beyond the margin) */
  score: number
  /** index of the feature with the largest novelty */
  feature: number
  /** what the chosen model expected for this point */
  expected: number
}

/** JSON form of the detector's state (numbers only). */
export interface BaselineState {
  v: 1
  s: number[]
  /** the Float32 profile, little-endian bytes in base64 (exact and compact) */
  profile: string
}

const FEATURE_NAMES = ['value', 'fast mean', 'slow mean', 'variability', 'daily-profile residual', 'daily-profile residual mean', 'prediction error']

/** Human name of feature `k`, for finding evidence. */
export function featureName (k: number): string {
  return FEATURE_NAMES[k] ?? 'value'
}

/** A streaming anomaly detector for one series. */
export class Baseline {
  private readonly p: BaselineParams
  // scalars, kept in one array so export/import stay in step with the fields
  private n = 0
  private lastT = NaN
  private dt = NaN
  private firstT = NaN
  private prevX = NaN
  private level = 0
  private offset = 0
  private errLevel = 0
  private errSeason = 0
  private open = false
  private calm = 0
  private sinceAlert = 1e9
  private peak = 0
  private readonly feat = new Float64Array(NF)
  private readonly center = new Float64Array(NF)
  private readonly hi = new Float64Array(NF)
  private readonly lo = new Float64Array(NF)
  private readonly seen = new Float64Array(NF)
  /** likelihood layer: [points, scale fast, scale slow, scale expected, short mean, long mean, long variance] */
  private readonly lk = new Float64Array(NL)
  /** [weekday bins…, weekend bins…]; NaN = not yet seen */
  private readonly profile: Float32Array

  constructor (params: Partial<BaselineParams> = {}) {
    this.p = { ...DEFAULT_BASELINE_PARAMS, ...params }
    this.profile = new Float32Array((this.p.weekly ? 2 : 1) * this.p.binsPerDay).fill(NaN)
  }

  /** True while an anomaly episode is open. */
  get isOpen (): boolean { return this.open }

  /** Feed one point; `atMs` is the sample time (epoch ms). */
  observe (atMs: number, value: number): BaselineStep {
    const p = this.p
    if (!Number.isFinite(value)) return { opened: false, cleared: false, escalated: false, score: 0, feature: 0, expected: this.level }
    if (this.n === 0) {
      this.n = 1
      this.level = value
      this.firstT = this.lastT = atMs
      this.prevX = value
      this.feat.fill(value)
      this.feat[3] = 0
      this.updateProfile(atMs, value)
      return { opened: false, cleared: false, escalated: false, score: 0, feature: 0, expected: value }
    }
    const step = atMs - this.lastT
    if (step > 0) this.dt = Number.isNaN(this.dt) ? step : this.dt + 0.05 * (Math.min(step, 4 * this.dt) - this.dt)
    const gap = step > p.gapIntervals * this.dt
    if (atMs > this.lastT) this.lastT = atMs
    this.n++

    // the two predictors and their running absolute errors (model selection)
    const b = this.bin(atMs)
    const prof = this.profile[b]
    const expectedSeason = prof + this.offset
    const seasonReady = !Number.isNaN(prof) && atMs - this.firstT >= p.seasonMinDays * DAY_MS
    const rl = value - this.level
    this.errLevel += p.selectAlpha * (Math.abs(rl) - this.errLevel)
    if (!Number.isNaN(prof)) this.errSeason += p.selectAlpha * (Math.abs(value - expectedSeason) - this.errSeason)
    const seasonScored = seasonReady && this.errSeason < p.seasonScoreRatio * this.errLevel

    // prediction errors of the fast mean, the slow mean and the chosen model, before they learn this point
    const lz = this.likelihood(value, seasonScored ? expectedSeason : this.level, gap)

    // features
    const f = this.feat
    f[0] = value
    f[1] += (value - f[1]) / 3
    f[2] += (value - f[2]) / 18
    if (!gap) f[3] += (Math.abs(value - this.prevX) - f[3]) / 12
    f[4] = seasonReady ? value - expectedSeason : 0
    f[5] = seasonReady ? f[5] + (f[4] - f[5]) / 6 : 0
    this.prevX = value

    // novelty: score against the records so far, then learn (no look-ahead)
    let score = 0
    let feature = 0
    const eps = 1e-9 + 1e-6 * Math.abs(this.center[0]) + p.spreadFloor * (this.hi[0] - this.lo[0])
    for (let k = 0; k < NF; k++) {
      if (k >= 4 && !seasonReady) continue
      if (this.seen[k] === 0) { this.center[k] = this.hi[k] = this.lo[k] = f[k]; this.seen[k] = 1; continue }
      const c = this.center[k]
      const up = (f[k] - this.hi[k]) / (this.hi[k] - c + eps)
      const dn = (this.lo[k] - f[k]) / (c - this.lo[k] + eps)
      const s = Math.max(up, dn) / p.noveltyMargin[k]
      if (s > score && (k < 4 || seasonScored)) { score = s; feature = k }
      this.seen[k]++
      this.center[k] += Math.max(p.centerAlpha, 1 / this.seen[k]) * (f[k] - c)
      if (f[k] > this.hi[k]) this.hi[k] = f[k]
      if (f[k] < this.lo[k]) this.lo[k] = f[k]
      this.hi[k] -= p.recordDecay * (this.hi[k] - this.center[k])
      this.lo[k] -= p.recordDecay * (this.lo[k] - this.center[k])
    }
    if (lz > score) { score = lz; feature = LIKELIHOOD_FEATURE }

    // learn the predictors
    this.level += p.levelAlpha * rl
    if (!Number.isNaN(prof)) this.offset += p.offsetAlpha * (value - expectedSeason)
    this.updateProfile(atMs, value)

    // episodes
    let opened = false
    let cleared = false
    let escalated = false
    this.sinceAlert++
    if (this.open) {
      this.calm = score < p.calmLevel ? this.calm + 1 : 0
      if (score >= p.escalateFactor * Math.max(1, this.peak)) { escalated = true; this.peak = score }
      if (this.calm >= p.clearPoints && this.sinceAlert >= p.refractoryPoints) { this.open = false; cleared = true }
    } else if (score >= 1 && this.n > p.warmupPoints && this.sinceAlert >= p.refractoryPoints) {
      this.open = opened = true
      this.peak = score
      this.calm = 0
      this.sinceAlert = 0
    }
    return { opened, cleared, escalated, score, feature, expected: seasonScored ? expectedSeason : this.level }
  }

  /**
   * Raw error: the largest of the fast mean's, slow mean's and chosen model's errors over
   * their mean absolute error, squashed into [0, 1). Its short-term mean (≈ 10 points) against
   * that mean's long-term mean and spread gives z; returns z / likelihoodZ (0 while off, warming up, across a gap).
   */
  private likelihood (value: number, expected: number, gap: boolean): number {
    const p = this.p
    if (p.likelihoodZ <= 0) return 0
    const l = this.lk
    const e0 = Math.abs(value - this.feat[1])
    const e1 = Math.abs(value - this.feat[2])
    const e2 = Math.abs(value - expected)
    const eps = 1e-9 + 1e-6 * Math.abs(this.feat[2])
    const raw = l[0] === 0 ? 0 : 1 - Math.exp(-Math.max(e0 / (l[1] + eps), e1 / (l[2] + eps), e2 / (l[3] + eps)) / 3)
    if (gap) return 0
    l[0]++
    const a = Math.max(0.01, 1 / l[0])
    l[1] += a * (e0 - l[1])
    l[2] += a * (e1 - l[2])
    l[3] += a * (e2 - l[3])
    l[4] += 0.1 * (raw - l[4])
    const z = (l[4] - l[5]) / Math.sqrt(l[6] + 1e-6)
    const w = Math.max(1 / p.likelihoodPoints, 1 / l[0])
    const d = l[4] - l[5]
    l[5] += w * d
    l[6] = (1 - w) * (l[6] + w * d * d)
    return l[0] > p.warmupPoints ? z / p.likelihoodZ : 0
  }

  private bin (atMs: number): number {
    const bins = this.p.binsPerDay
    const inDay = Math.floor((((atMs % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS * bins)
    if (!this.p.weekly) return inDay
    const dow = new Date(atMs).getUTCDay()
    if (dow !== 0 && dow !== 6) return inDay
    // a weekend bin with no history yet borrows the weekday one
    return Number.isNaN(this.profile[bins + inDay]) && this.n > 0 && !Number.isNaN(this.profile[inDay]) ? inDay : bins + inDay
  }

  private updateProfile (atMs: number, value: number): void {
    const b = this.bin(atMs)
    const cur = this.profile[b]
    const target = value - this.offset
    if (Number.isNaN(cur)) { this.profile[b] = target; return }
    // spread one day's update over the points that fall in a bin
    const perBin = Number.isNaN(this.dt) ? 1 : Math.max(1, DAY_MS / this.p.binsPerDay / this.dt)
    this.profile[b] = cur + (this.p.seasonAlpha / perBin) * (target - cur)
  }

  /** JSON-serialisable copy of the state. */
  exportState (): BaselineState {
    const num = (x: number): number => Number.isNaN(x) ? NONE : x
    const s = [this.n, this.lastT, this.dt, this.firstT, this.prevX, this.level, this.offset, this.errLevel,
      this.errSeason, this.open ? 1 : 0, this.calm, this.sinceAlert, this.peak,
      ...this.feat, ...this.center, ...this.hi, ...this.lo, ...this.seen, ...this.lk].map(num)
    return { v: 1, s, profile: Buffer.from(this.profile.buffer, this.profile.byteOffset, this.profile.byteLength).toString('base64') }
  }

  /** Restore a state produced by {@link exportState} with the same params. */
  static fromState (state: BaselineState, params: Partial<BaselineParams> = {}): Baseline {
    const d = new Baseline(params)
    const un = (x: number): number => x === NONE ? NaN : x
    const s = state.s.map(un)
    const bytes = Buffer.from(state.profile, 'base64')
    // a state saved before the likelihood layer (13 + 5·NF numbers) restores with the layer starting afresh
    if (state.v !== 1 || (s.length !== 13 + 5 * NF && s.length !== 13 + 5 * NF + NL) || bytes.length !== d.profile.byteLength) return d
    ;[d.n, d.lastT, d.dt, d.firstT, d.prevX, d.level, d.offset, d.errLevel, d.errSeason] = s
    d.open = s[9] === 1
    d.calm = s[10]
    d.sinceAlert = s[11]
    d.peak = s[12]
    const o = 13
    d.feat.set(s.slice(o, o + NF))
    d.center.set(s.slice(o + NF, o + 2 * NF))
    d.hi.set(s.slice(o + 2 * NF, o + 3 * NF))
    d.lo.set(s.slice(o + 3 * NF, o + 4 * NF))
    d.seen.set(s.slice(o + 4 * NF, o + 5 * NF))
    if (s.length === o + 5 * NF + NL) d.lk.set(s.slice(o + 5 * NF))
    d.profile.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)))
    return d
  }
}
