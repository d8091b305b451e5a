/**
 * Scoring candidate detectors on NAB without fooling ourselves: every candidate
 * comes with a small parameter grid, every grid point is replayed once over every
 * file, and two figures are derived from the same per-file scores.
 *
 *   in-sample       the grid point with the best total over all files, scored on
 *                   those same files (optimistic: parameters chosen on the answers)
 *   cross-validated leave-one-subset-out: for each NAB subset, the grid point is
 *                   chosen by the score on the *other* subsets only, and the held-out
 *                   subset is scored with it; the held-out file scores of all folds
 *                   (each file is held out exactly once) are summed into one figure
 *
 * Selection is per profile, as NAB does (each cost profile picks its own grid
 * point); ties keep the earlier grid point. Pure apart from the detectors it runs.
 */
import { aggregateScores, scoreFile, type NabScore, type RowWindow } from './score.js'
import { nabTimestampMs, type NabSeries } from './dataset.js'

export const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const
export type Profile = typeof PROFILES[number]

/** One streaming detector instance for one series. */
export interface StreamDetector {
  /** feed one point; true exactly where a new alert (episode) starts */
  observe: (atMs: number, value: number) => boolean
  /** the state a collector would save for this series (JSON-serialisable) */
  exportState: () => unknown
}

/** A detector family and the grid its parameters are chosen from. */
export interface Candidate<P = unknown> {
  name: string
  grid: P[]
  /** short text for a grid point */
  describe: (p: P) => string
  create: (p: P) => StreamDetector
}

/** A candidate with its parameter type erased, so families with different parameters share one list. */
export function candidate<P> (c: Candidate<P>): Candidate<unknown> {
  return c as unknown as Candidate<unknown>
}

/** A dataset file ready to replay: its series, its label windows (rows) and epoch-ms times. */
export interface NabFile { s: NabSeries, w: RowWindow[], times: Float64Array }

export function prepareFile (s: NabSeries, w: RowWindow[]): NabFile {
  return { s, w, times: Float64Array.from(s.timestamps, nabTimestampMs) }
}

/** Replay one file through a fresh detector: 0/1 alerts per row, and the exported state's size at the end. */
export function runFile (c: Candidate<unknown>, p: unknown, f: NabFile): { alerts: Uint8Array, stateBytes: number } {
  const d = c.create(p)
  const v = f.s.values
  const a = new Uint8Array(v.length)
  for (let i = 0; i < v.length; i++) if (d.observe(f.times[i], v[i])) a[i] = 1
  return { alerts: a, stateBytes: JSON.stringify(d.exportState()).length }
}

export interface ProfileResult {
  inSample: number | null
  cv: number | null
  /** grid index chosen on all files */
  inSampleChoice: number
  /** grid index chosen in each fold, by held-out subset */
  folds: Record<string, number>
}

export interface CandidateResult {
  name: string
  profiles: Record<Profile, ProfileResult>
  /** cross-validated (standard profile) score of each held-out subset */
  cvBySubset: Record<string, NabScore>
  /** in-sample (standard profile) score of each subset */
  inSampleBySubset: Record<string, NabScore>
  cvTotal: NabScore
  inSampleTotal: NabScore
  /** largest exported state seen at the end of a file, bytes (in-sample standard choice) */
  maxStateBytes: number
}

/** scores[g][i]: file i scored with grid point g. Picks, per profile, by the aggregate over `files`. */
function best (scores: NabScore[][], files: number[], profile: Profile): number {
  let bi = 0
  let bv = -Infinity
  for (let g = 0; g < scores.length; g++) {
    const v = aggregateScores(files.map((i) => scores[g][i])).profiles[profile].normalized ?? -Infinity
    if (v > bv + 1e-12) { bv = v; bi = g }
  }
  return bi
}

/** Leave-one-subset-out and in-sample figures from per-file scores of every grid point. */
export function crossValidate (name: string, files: NabFile[], scores: NabScore[][], stateBytes: number[][]): CandidateResult {
  const subsets = [...new Set(files.map((f) => f.s.subset))]
  const idx = files.map((_, i) => i)
  const profiles = {} as Record<Profile, ProfileResult>
  const bySubsetStd: { cv: Record<string, NabScore>, ins: Record<string, NabScore> } = { cv: {}, ins: {} }
  let cvStd: NabScore[] = []
  let insChoiceStd = 0
  for (const p of PROFILES) {
    const ins = best(scores, idx, p)
    const folds: Record<string, number> = {}
    const held: NabScore[] = []
    for (const sub of subsets) {
      const train = idx.filter((i) => files[i].s.subset !== sub)
      const test = idx.filter((i) => files[i].s.subset === sub)
      const g = best(scores, train, p)
      folds[sub] = g
      const part = test.map((i) => scores[g][i])
      held.push(...part)
      if (p === 'standard') {
        bySubsetStd.cv[sub] = aggregateScores(part)
        bySubsetStd.ins[sub] = aggregateScores(test.map((i) => scores[ins][i]))
      }
    }
    if (p === 'standard') { cvStd = held; insChoiceStd = ins }
    profiles[p] = {
      inSample: aggregateScores(scores[ins]).profiles[p].normalized,
      cv: aggregateScores(held).profiles[p].normalized,
      inSampleChoice: ins,
      folds
    }
  }
  return {
    name,
    profiles,
    cvBySubset: bySubsetStd.cv,
    inSampleBySubset: bySubsetStd.ins,
    cvTotal: aggregateScores(cvStd),
    inSampleTotal: aggregateScores(scores[insChoiceStd]),
    maxStateBytes: Math.max(...stateBytes[insChoiceStd])
  }
}

/** Replay every grid point of a candidate over every file and cross-validate. */
export function evaluate (c: Candidate<unknown>, files: NabFile[]): CandidateResult {
  const scores: NabScore[][] = []
  const bytes: number[][] = []
  for (const p of c.grid) {
    const row: NabScore[] = []
    const b: number[] = []
    for (const f of files) {
      const r = runFile(c, p, f)
      row.push(scoreFile(f.s.values.length, f.w, r.alerts))
      b.push(r.stateBytes)
    }
    scores.push(row)
    bytes.push(b)
  }
  return crossValidate(c.name, files, scores, bytes)
}

/** Points per second of one grid point over all files, on this thread (one core): `runs` timings. */
export function throughput (c: Candidate<unknown>, p: unknown, files: NabFile[], runs: number): number[] {
  const out: number[] = []
  for (let r = 0; r < runs; r++) {
    let n = 0
    const t = performance.now()
    for (const f of files) {
      const d = c.create(p)
      const v = f.s.values
      for (let i = 0; i < v.length; i++) d.observe(f.times[i], v[i])
      n += v.length
    }
    out.push(n / ((performance.now() - t) / 1000))
  }
  return out
}
