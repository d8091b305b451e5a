/**
 * Candidate streaming anomaly scorers, compared with the engine's learned
 * baseline by bench/nab.ts. Each turns one point into a score (higher = more
 * anomalous) with bounded state and no look-ahead; {@link Thresholded} turns a
 * score into alerts (one per episode, then a rest period), which is what the
 * engine does with its own novelty score.
 *
 *   LikelihoodScorer  prediction error, then the anomaly-likelihood layer of
 *                     Ahmad & Purdy (2016): the short-term mean of the error
 *                     against its long-term distribution
 *   ContextScorer     in the spirit of CAD OSE (Smirnov 2016): the value is turned
 *                     into discrete facts; the score is the share of (earlier fact,
 *                     current fact) contexts never seen before
 *   ChangePointScorer Bayesian online change-point detection (Adams & MacKay 2007)
 *                     with a Normal-Gamma model; the score is the posterior mass of
 *                     run lengths shorter than a few points
 *
 * Written from the published descriptions; no code of those projects is used.
 */
import { Baseline } from '../../../collector/detect/baseline.js'

export interface Scorer {
  /** score of this point (learned from after scoring) */
  score: (atMs: number, x: number) => number
  exportState: () => unknown
}

/**
 * Alert on a score ≥ `threshold` after `warmup` points; then the episode stays
 * open (no alert) until `rest` points have passed and the score has stayed below
 * the threshold for `calm` points in a row, as the engine's episodes do.
 */
export class Thresholded {
  private n = 0
  private since = 1e9
  private quiet = 1e9
  constructor (readonly scorer: Scorer, readonly threshold: number, readonly rest: number, readonly warmup: number, readonly calm = 0) {}
  observe (atMs: number, x: number): boolean {
    if (!Number.isFinite(x)) return false
    const s = this.scorer.score(atMs, x)
    this.n++
    this.since++
    const armed = this.since >= this.rest && this.quiet >= this.calm
    this.quiet = s >= this.threshold ? 0 : this.quiet + 1
    if (s >= this.threshold && this.n > this.warmup && armed) { this.since = 0; return true }
    return false
  }

  exportState (): unknown { return { n: this.n, since: this.since, quiet: this.quiet, s: this.scorer.exportState() } }
}

const round = (x: number): number => Number.isFinite(x) ? Math.round(x * 1e9) / 1e9 : 0

// ---------------------------------------------------------------------------

export interface LikelihoodParams {
  /** EWMA weight of the fast predictor (≈ the last few values) */
  fastAlpha: number
  /** EWMA weight of the slow predictor */
  slowAlpha: number
  /** EWMA weight of the error scales */
  scaleAlpha: number
  /** points in the short-term mean of the raw score (as an EWMA of weight 1/n) */
  shortPoints: number
  /** points in the long-term distribution of the raw score (as EWMA of weight 1/n) */
  longPoints: number
}

export const DEFAULT_LIKELIHOOD: LikelihoodParams = { fastAlpha: 0.5, slowAlpha: 0.05, scaleAlpha: 0.01, shortPoints: 10, longPoints: 2000 }

/**
 * Raw score: the larger of the two predictors' absolute errors, each over its own
 * running mean absolute error, squashed into [0, 1). Likelihood layer: z of the
 * raw score's short-term mean against the long-term mean and standard deviation
 * of that short-term mean (the score; the tail probability is Q(z)).
 */
export class LikelihoodScorer implements Scorer {
  private n = 0
  private fast = 0
  private slow = 0
  private sFast = 0
  private sSlow = 0
  private short = 0
  private mean = 0
  private m2 = 0
  private sSeason = 0
  private readonly season = new Baseline()
  constructor (private readonly p: LikelihoodParams = DEFAULT_LIKELIHOOD) {}
  score (atMs: number, x: number): number {
    const p = this.p
    const expected = this.season.observe(atMs, x).expected
    if (this.n++ === 0) { this.fast = this.slow = x; return 0 }
    const ef = Math.abs(x - this.fast)
    const es = Math.abs(x - this.slow)
    const ez = Math.abs(x - expected)
    const eps = 1e-9 + 1e-6 * Math.abs(this.slow)
    const raw = 1 - Math.exp(-Math.max(ef / (this.sFast + eps), es / (this.sSlow + eps), ez / (this.sSeason + eps)) / 3)
    const a = this.n < 1 / p.scaleAlpha ? 1 / this.n : p.scaleAlpha
    this.sFast += a * (ef - this.sFast)
    this.sSlow += a * (es - this.sSlow)
    this.sSeason += a * (ez - this.sSeason)
    this.fast += p.fastAlpha * (x - this.fast)
    this.slow += p.slowAlpha * (x - this.slow)
    this.short += (1 / p.shortPoints) * (raw - this.short)
    const w = Math.max(1 / p.longPoints, 1 / this.n)
    const z = (this.short - this.mean) / Math.sqrt(this.m2 + 1e-6)
    const d = this.short - this.mean
    this.mean += w * d
    this.m2 = (1 - w) * (this.m2 + w * d * d)
    return z
  }

  exportState (): unknown { return { s: [this.n, this.fast, this.slow, this.sFast, this.sSlow, this.sSeason, this.short, this.mean, this.m2].map(round), season: this.season.exportState() } }
}

// ---------------------------------------------------------------------------

export interface ContextParams {
  /** coarse and fine value bins over the running range */
  coarseBins: number
  fineBins: number
  /** bits of each of the two generations of the seen-context set (power of 2) */
  bits: number
  /** insertions after which the older generation is dropped (forgetting) */
  generation: number
}

export const DEFAULT_CONTEXT: ContextParams = { coarseBins: 8, fineBins: 24, bits: 4096, generation: 6000 }

/**
 * Facts of a point: its coarse bin, its fine bin and the direction/size of its
 * step (5 classes), over the running min/max. Contexts: every pair (fact of the
 * point 1 or 2 steps back, fact now), hashed into two generations of a bit set
 * (bounded memory; the older generation is dropped every `generation` insertions,
 * so contexts not seen for a long time become news again). Score: the share of
 * the current contexts that are in neither generation.
 */
export class ContextScorer implements Scorer {
  private n = 0
  private lo = 0
  private hi = 0
  private prev = 0
  private stepScale = 0
  private inserted = 0
  private readonly facts = new Int32Array(9) // [t-2 (3), t-1 (3), t (3)]
  private cur: Uint32Array
  private old: Uint32Array
  constructor (private readonly p: ContextParams = DEFAULT_CONTEXT) {
    this.cur = new Uint32Array(p.bits >>> 5)
    this.old = new Uint32Array(p.bits >>> 5)
  }

  score (_atMs: number, x: number): number {
    const p = this.p
    if (this.n++ === 0) { this.lo = this.hi = this.prev = x; this.facts.fill(-1); return 0 }
    if (x < this.lo) this.lo = x
    if (x > this.hi) this.hi = x
    const range = this.hi - this.lo
    const u = range > 0 ? (x - this.lo) / range : 0.5
    const coarse = Math.min(p.coarseBins - 1, Math.floor(u * p.coarseBins))
    const fine = Math.min(p.fineBins - 1, Math.floor(u * p.fineBins))
    const d = x - this.prev
    this.prev = x
    const ad = Math.abs(d)
    const dc = ad <= 0.5 * this.stepScale ? 0 : ad <= 3 * this.stepScale ? 1 : 2
    const dir = d > 0 ? dc : -dc
    this.stepScale += (this.n < 100 ? 1 / this.n : 0.01) * (ad - this.stepScale)
    const f = this.facts
    f.copyWithin(0, 3)
    f[6] = coarse
    f[7] = 1000 + fine
    f[8] = 2000 + dir
    let novel = 0
    let total = 0
    const mask = p.bits - 1
    for (let j = 0; j < 6; j++) {
      if (f[j] < 0) continue
      for (let k = 6; k < 9; k++) {
        const h = hash(f[j], j < 3 ? 2 : 1, f[k]) & mask
        const w = h >>> 5
        const b = 1 << (h & 31)
        total++
        if ((this.cur[w] & b) === 0) {
          if ((this.old[w] & b) === 0) novel++
          this.cur[w] |= b
          if (++this.inserted >= p.generation) { this.old = this.cur; this.cur = new Uint32Array(p.bits >>> 5); this.inserted = 0 }
        }
      }
    }
    return total > 0 ? novel / total : 0
  }

  exportState (): unknown {
    const b64 = (a: Uint32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
    return { s: [this.n, this.lo, this.hi, this.prev, this.stepScale, this.inserted, ...this.facts].map(round), cur: b64(this.cur), old: b64(this.old) }
  }
}

function hash (a: number, lag: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13) ^ lag, 0xc2b2ae35)
  h = Math.imul(h ^ (h >>> 16) ^ b, 0x27d4eb2f)
  return (h ^ (h >>> 15)) >>> 0
}

// ---------------------------------------------------------------------------

export interface ChangePointParams {
  /** expected run length between changes (hazard = 1 / this) */
  expectedRun: number
  /** run-length hypotheses kept (the least likely are dropped) */
  maxRuns: number
  /** score = posterior mass of run lengths below this */
  shortRun: number
  /** EWMA weight of the running standardisation */
  normAlpha: number
}

export const DEFAULT_CHANGE_POINT: ChangePointParams = { expectedRun: 250, maxRuns: 8, shortRun: 4, normAlpha: 0.002 }

/**
 * The model runs on the residual of the learned baseline's prediction (its daily
 * profile or moving level, so a daily rhythm is not read as a stream of changes),
 * standardised by a slow running mean and deviation; each run-length
 * hypothesis holds Normal-Gamma posterior statistics (μ, κ, α, β) and its mass; the
 * predictive of a run is Student-t. On each point every run grows (mass × (1 − h)
 * × predictive), a new run starts (Σ mass × h × predictive under the prior), the
 * masses are renormalised and the least likely runs beyond `maxRuns` dropped.
 */
export class ChangePointScorer implements Scorer {
  private n = 0
  private m = 0
  private v = 0
  private k = 0
  private readonly season = new Baseline()
  // per hypothesis: run length, log mass, mu, kappa, alpha, beta
  private readonly r: Float64Array
  private readonly lw: Float64Array
  private readonly mu: Float64Array
  private readonly ka: Float64Array
  private readonly al: Float64Array
  private readonly be: Float64Array
  constructor (private readonly p: ChangePointParams = DEFAULT_CHANGE_POINT) {
    const R = p.maxRuns + 1
    this.r = new Float64Array(R)
    this.lw = new Float64Array(R)
    this.mu = new Float64Array(R)
    this.ka = new Float64Array(R)
    this.al = new Float64Array(R)
    this.be = new Float64Array(R)
  }

  score (atMs: number, value: number): number {
    const p = this.p
    // the model runs on what the daily profile / level does not explain
    const x = value - this.season.observe(atMs, value).expected
    this.n++
    const a = this.n < 1 / p.normAlpha ? 1 / this.n : p.normAlpha
    const dm = x - this.m
    this.m += a * dm
    this.v = (1 - a) * (this.v + a * dm * dm)
    const sd = Math.sqrt(this.v) + 1e-9 + 1e-6 * Math.abs(this.m)
    const z = (x - this.m) / sd
    if (this.n < 3) { this.reset(z); return 0 }
    const lh = Math.log(1 / p.expectedRun)
    const l1h = Math.log(1 - 1 / p.expectedRun)
    // predictive under the prior (μ0 0, κ0 1, α0 1, β0 1)
    const lp0 = logT(z, 0, 1, 1, 1)
    let maxL = -Infinity
    let cpMass = -Infinity
    for (let i = 0; i < this.k; i++) {
      const lp = logT(z, this.mu[i], this.ka[i], this.al[i], this.be[i])
      const lw = this.lw[i]
      cpMass = logAdd(cpMass, lw + lh + lp0)
      this.lw[i] = lw + l1h + lp
      // posterior update
      const mu = this.mu[i]
      const ka = this.ka[i]
      this.be[i] += (ka * (z - mu) * (z - mu)) / (2 * (ka + 1))
      this.mu[i] = (ka * mu + z) / (ka + 1)
      this.ka[i] = ka + 1
      this.al[i] += 0.5
      this.r[i]++
      if (this.lw[i] > maxL) maxL = this.lw[i]
    }
    // the new run (r = 0, prior updated with this point)
    const i0 = this.k
    this.r[i0] = 0
    this.lw[i0] = cpMass
    this.mu[i0] = z / 2
    this.ka[i0] = 2
    this.al[i0] = 1.5
    this.be[i0] = 1 + (z * z) / 4
    this.k++
    if (cpMass > maxL) maxL = cpMass
    let sum = 0
    for (let i = 0; i < this.k; i++) sum += Math.exp(this.lw[i] - maxL)
    const ls = maxL + Math.log(sum)
    let short = 0
    let worst = -1
    for (let i = 0; i < this.k; i++) {
      this.lw[i] -= ls
      if (this.r[i] < p.shortRun) short += Math.exp(this.lw[i])
      if (worst === -1 || this.lw[i] < this.lw[worst]) worst = i
    }
    if (this.k > p.maxRuns) this.drop(worst)
    return short
  }

  private reset (z: number): void {
    this.k = 1
    this.r[0] = 0
    this.lw[0] = 0
    this.mu[0] = z / 2
    this.ka[0] = 2
    this.al[0] = 1.5
    this.be[0] = 1 + (z * z) / 4
  }

  private drop (i: number): void {
    const last = this.k - 1
    for (const arr of [this.r, this.lw, this.mu, this.ka, this.al, this.be]) arr[i] = arr[last]
    this.k--
  }

  exportState (): unknown {
    const runs: number[] = []
    for (let i = 0; i < this.k; i++) runs.push(this.r[i], this.lw[i], this.mu[i], this.ka[i], this.al[i], this.be[i])
    return { s: [this.n, this.m, this.v].map(round), runs: runs.map(round), season: this.season.exportState() }
  }
}

/** log of the Student-t predictive of a Normal-Gamma(μ, κ, α, β) posterior at z. */
function logT (z: number, mu: number, ka: number, al: number, be: number): number {
  const nu = 2 * al
  const s2 = (be * (ka + 1)) / (al * ka)
  const d = z - mu
  return lgammaHalfRatio(al) - 0.5 * Math.log(nu * Math.PI * s2) - (al + 0.5) * Math.log1p((d * d) / (nu * s2))
}

/** lgamma(a + 1/2) − lgamma(a), by its asymptotic series (a ≥ 1: error < 1e-6). */
function lgammaHalfRatio (a: number): number {
  if (a < 4) return lgammaHalfRatio(a + 1) - Math.log((a + 0.5) / a)
  return 0.5 * Math.log(a) - 1 / (8 * a) + 1 / (192 * a * a * a)
}

function logAdd (a: number, b: number): number {
  if (a === -Infinity) return b
  if (b === -Infinity) return a
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b))
}
