/**
 * The Numenta Anomaly Benchmark scoring rule (Lavin & Ahmad, 2015), for binary
 * alerts: the project's own implementation, checked by test/bench/nab-score.test.ts
 * to give the same numbers as the reference tool shipped in shared/tools.
 *
 * Per file of n rows: the first P = min(floor(0.15 n), 750) rows are probation
 * (not scored). In each label window [s, e] only the first alert counts, worth
 * tpWeight · sig(-(e - i + 1)/L) / sig(-1); a window without an alert costs
 * fnWeight. Each alerted row outside every window costs fpWeight · sig(y), y being
 * its distance past the closest preceding window relative to that window's length
 * (−fpWeight when no window precedes it). Scores are normalised so the
 * never-alerting detector is 0 and alerting on every window's first row is 100;
 * subsets and totals sum raw/null/perfect over files first.
 *
 * Pure: no I/O. Reading the dataset is in nab-dataset.ts.
 */

/** One NAB cost matrix. */
export interface CostMatrix { tpWeight: number, fpWeight: number, fnWeight: number }

/** The three profiles of NAB's config/profiles.json. */
export const NAB_PROFILES: Readonly<Record<string, CostMatrix>> = Object.freeze({
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  reward_low_FP_rate: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  reward_low_FN_rate: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 }
})

export const DEFAULT_PROBATION = 0.15

/** A label window as inclusive row indices. */
export interface RowWindow { start: number, end: number }

export interface ProfileScore { raw: number, null: number, perfect: number, normalized: number | null }

/** Score of one file or of a sum of files. */
export interface NabScore {
  files: number
  rows: number
  windows: number
  windowsScored: number
  windowsDetected: number
  /** detected / scored windows; null when none is scored */
  windowRecall: number | null
  alertRows: number
  fpRows: number
  /** maximal runs of alerted rows touching no window */
  fpEvents: number
  /** sum over detected windows of (e - i + 1)/L */
  leadSum: number
  profiles: Record<string, ProfileScore>
}

/** NAB's scaled sigmoid of a relative position. */
export function scaledSigmoid (y: number): number {
  if (y > 3.0) return -1.0
  return 2 / (1 + Math.exp(5 * y)) - 1
}

const MAX_TP = scaledSigmoid(-1.0)

/** Number of leading rows excluded from scoring (may be fractional, as NAB). */
export function probationLength (n: number, fraction = DEFAULT_PROBATION): number {
  return Math.min(Math.floor(fraction * n), fraction * 5000)
}

export function normalizeScore (raw: number, nul: number, perfect: number): number | null {
  const d = perfect - nul
  return d === 0 ? null : (100 * (raw - nul)) / d
}

/** Score one file's 0/1 alerts (length n) against its windows (sorted, disjoint). */
export function scoreFile (n: number, windows: RowWindow[], alerts: ArrayLike<number>,
  profiles: Readonly<Record<string, CostMatrix>> = NAB_PROFILES, probation = DEFAULT_PROBATION): NabScore {
  if (alerts.length !== n) throw new Error(`alerts length ${alerts.length} != rows ${n}`)
  const P = probationLength(n, probation)
  const inWin = new Int32Array(n).fill(-1)
  const prevWin = new Int32Array(n).fill(-1)
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k]
    if (!(w.start >= 0 && w.end < n && w.start <= w.end)) throw new Error(`bad window ${JSON.stringify(w)}`)
    if (k > 0 && w.start <= windows[k - 1].end) throw new Error('windows overlap or are unsorted')
    for (let i = w.start; i <= w.end; i++) inWin[i] = k
  }
  let last = -1
  for (let i = 0; i < n; i++) {
    prevWin[i] = last
    if (inWin[i] !== -1 && (i === n - 1 || inWin[i + 1] !== inWin[i])) last = inWin[i]
  }

  const first = new Array<number>(windows.length).fill(-1)
  const fpPositions: Array<number | null> = []
  let alertRows = 0
  let fpRows = 0
  let fpEvents = 0
  let runOpen = false
  let runTouches = false
  const closeRun = (): void => {
    if (runOpen && !runTouches) fpEvents++
    runOpen = false
    runTouches = false
  }
  for (let i = 0; i < n; i++) {
    if (i < P) continue
    const k = inWin[i]
    if (alerts[i] === 0) { closeRun(); continue }
    alertRows++
    runOpen = true
    if (k !== -1) {
      runTouches = true
      if (first[k] === -1) first[k] = i
      continue
    }
    fpRows++
    const pk = prevWin[i]
    if (pk === -1) fpPositions.push(null)
    else {
      const L = windows[pk].end - windows[pk].start + 1
      fpPositions.push((i - windows[pk].end) / Math.max(1, L - 1))
    }
  }
  closeRun()

  let scoredCount = 0
  let detected = 0
  let leadSum = 0
  const leads: Array<number | null> = []
  for (let k = 0; k < windows.length; k++) {
    const w = windows[k]
    const scored = w.end >= P
    const lead = first[k] === -1 ? null : (w.end - first[k] + 1) / (w.end - w.start + 1)
    leads.push(lead)
    if (!scored) continue
    scoredCount++
    if (lead !== null) { detected++; leadSum += lead }
  }

  const prof: Record<string, ProfileScore> = {}
  for (const [name, cm] of Object.entries(profiles)) {
    let raw = 0
    for (let k = 0; k < windows.length; k++) {
      if (windows[k].end < P) continue
      const lead = leads[k]
      raw += lead === null ? -cm.fnWeight : (cm.tpWeight * scaledSigmoid(-lead)) / MAX_TP
    }
    for (const y of fpPositions) raw += y === null ? -cm.fpWeight : cm.fpWeight * scaledSigmoid(y)
    const nul = -cm.fnWeight * scoredCount
    const perfect = cm.tpWeight * windows.length
    prof[name] = { raw, null: nul, perfect, normalized: normalizeScore(raw, nul, perfect) }
  }
  return {
    files: 1,
    rows: n,
    windows: windows.length,
    windowsScored: scoredCount,
    windowsDetected: detected,
    windowRecall: scoredCount > 0 ? detected / scoredCount : null,
    alertRows,
    fpRows,
    fpEvents,
    leadSum,
    profiles: prof
  }
}

/** Sum file scores into a subset or overall score (raw, null, perfect summed, then normalised). */
export function aggregateScores (scores: NabScore[]): NabScore {
  const out: NabScore = {
    files: 0, rows: 0, windows: 0, windowsScored: 0, windowsDetected: 0, windowRecall: null,
    alertRows: 0, fpRows: 0, fpEvents: 0, leadSum: 0, profiles: {}
  }
  for (const s of scores) {
    out.files += s.files
    out.rows += s.rows
    out.windows += s.windows
    out.windowsScored += s.windowsScored
    out.windowsDetected += s.windowsDetected
    out.alertRows += s.alertRows
    out.fpRows += s.fpRows
    out.fpEvents += s.fpEvents
    out.leadSum += s.leadSum
    for (const [name, p] of Object.entries(s.profiles)) {
      const acc = out.profiles[name] ?? (out.profiles[name] = { raw: 0, null: 0, perfect: 0, normalized: null })
      acc.raw += p.raw
      acc.null += p.null
      acc.perfect += p.perfect
    }
  }
  for (const p of Object.values(out.profiles)) p.normalized = normalizeScore(p.raw, p.null, p.perfect)
  out.windowRecall = out.windowsScored > 0 ? out.windowsDetected / out.windowsScored : null
  return out
}
