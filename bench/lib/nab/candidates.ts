/**
 * The detectors bench/nab.ts compares, each with the grid its parameters are
 * chosen from (see cv.ts). Grid point 0 is each family's default. The grids are
 * small on purpose: few choices, each a plain threshold-like knob, leave little
 * room to fit the labels.
 */
import { DetectionEngine } from '../../../collector/detect/engine.js'
import type { BaselineParams } from '../../../collector/detect/baseline.js'
import { candidate, type Candidate, type StreamDetector } from './cv.js'
import { ChangePointScorer, ContextScorer, DEFAULT_CHANGE_POINT, DEFAULT_CONTEXT, DEFAULT_LIKELIHOOD, LikelihoodScorer, Thresholded } from './scorers.js'

const SERIES = 'nab.value{file="x"}'

/** The engine through DetectionEngine.observePoint (the collector's path): an alert where an anomaly finding opens. */
export function engineDetector (baseline: Partial<BaselineParams> = {}): StreamDetector {
  const e = new DetectionEngine({ baseline })
  let open = false
  return {
    observe: (atMs, value) => {
      let alert = false
      for (const f of e.observePoint('nab', SERIES, atMs, value)) {
        if (f.kind !== 'anomaly') continue
        if (f.state === 'clear') open = false
        else if (!open) { open = true; alert = true }
      }
      return alert
    },
    exportState: () => e.exportMachine('nab')
  }
}

type Margins = BaselineParams['noveltyMargin']
const DEFAULT_MARGINS: Margins = [0.2, 0.2, 0.1, 0.3, 1, 1]
const scaled = (k: number): Margins => DEFAULT_MARGINS.map((m) => m * k) as Margins

/**
 * The grid holds only settings no more sensitive than the defaults: more sensitive
 * ones (e.g. spreadFloor 0.03, in-sample 73.0) break the product's own noise tests
 * (test/collector/detect/baseline.test.ts: a sleeping laptop's noise opens too many episodes).
 */
export const engineCandidate = candidate<{ likelihoodZ: number, margin: number, spreadFloor: number }>({
  name: 'engine (learned baseline + likelihood)',
  grid: [4, 0, 5, 6].flatMap((likelihoodZ) => [1, 1.25].flatMap((margin) => [0.05, 0.08].map((spreadFloor) => ({ likelihoodZ, margin, spreadFloor })))),
  describe: (p) => `likelihood z ${p.likelihoodZ === 0 ? 'off' : p.likelihoodZ}, margins ×${p.margin}, spreadFloor ${p.spreadFloor}`,
  create: (p) => engineDetector({ likelihoodZ: p.likelihoodZ, noveltyMargin: scaled(p.margin), spreadFloor: p.spreadFloor })
})

/** The engine as it was before the likelihood layer (records only), on the same grid otherwise. */
export const recordsCandidate = candidate<{ margin: number, spreadFloor: number }>({
  name: 'engine, records only (before)',
  grid: [1, 1.25, 1.5].flatMap((margin) => [0.05, 0.065, 0.08].map((spreadFloor) => ({ margin, spreadFloor }))),
  describe: (p) => `margins ×${p.margin}, spreadFloor ${p.spreadFloor}`,
  create: (p) => engineDetector({ likelihoodZ: 0, noveltyMargin: scaled(p.margin), spreadFloor: p.spreadFloor })
})

/** The reference rolling z-score (window 288, every row past |z| alerts, as shared/tools' baseline). */
export const zscoreCandidate = candidate<{ z: number }>({
  name: 'rolling z-score (reference)',
  grid: [4, 3, 5, 6].map((z) => ({ z })),
  describe: (p) => `z ${p.z}`,
  create: ({ z }) => {
    const W = 288
    const ring = new Float64Array(W)
    let n = 0
    return {
      observe: (_atMs, x) => {
        const h = Math.min(n, W)
        let alert = false
        if (h >= 30) {
          let mean = 0
          for (let j = 0; j < h; j++) mean += ring[j]
          mean /= h
          let v = 0
          for (let j = 0; j < h; j++) v += (ring[j] - mean) ** 2
          const std = Math.sqrt(v / h)
          const dev = Math.abs(x - mean)
          alert = (std > 1e-12 * Math.max(1, Math.abs(mean)) ? dev / std : dev > 0 ? Infinity : 0) > z
        }
        ring[n % W] = x
        n++
        return alert
      },
      exportState: () => ({ n, ring: [...ring] })
    }
  }
})

const REST = 150
const WARMUP = 150
const CALM = 60

export const likelihoodCandidate = candidate<{ z: number, longPoints: number }>({
  name: 'anomaly likelihood over prediction error',
  grid: [3, 2, 2.5, 4, 5].flatMap((z) => [2000, 8000].map((longPoints) => ({ z, longPoints }))),
  describe: (p) => `z ${p.z}, long ${p.longPoints}`,
  create: (p) => new Thresholded(new LikelihoodScorer({ ...DEFAULT_LIKELIHOOD, longPoints: p.longPoints }), p.z, REST, WARMUP, CALM)
})

export const contextCandidate = candidate<{ threshold: number, generation: number }>({
  name: 'contextual (CAD-OSE-like)',
  grid: [0.4, 0.2, 0.3, 0.5, 0.6].flatMap((threshold) => [6000, 2000].map((generation) => ({ threshold, generation }))),
  describe: (p) => `novel share ≥ ${p.threshold}, generation ${p.generation}`,
  create: (p) => new Thresholded(new ContextScorer({ ...DEFAULT_CONTEXT, generation: p.generation }), p.threshold, REST, WARMUP, CALM)
})

export const changePointCandidate = candidate<{ threshold: number, expectedRun: number }>({
  name: 'Bayesian online change point',
  grid: [0.999, 0.99, 0.9999, 0.99999].flatMap((threshold) => [1000, 4000].map((expectedRun) => ({ threshold, expectedRun }))),
  describe: (p) => `short-run mass ≥ ${p.threshold}, expected run ${p.expectedRun}`,
  create: (p) => new Thresholded(new ChangePointScorer({ ...DEFAULT_CHANGE_POINT, expectedRun: p.expectedRun }), p.threshold, REST, WARMUP, CALM)
})


export const ensembleCandidate = candidate<{ z: number, longPoints: number }>({
  name: 'ensemble: engine + likelihood',
  grid: [5, 4, 6, 8].flatMap((z) => [8000, 2000].map((longPoints) => ({ z, longPoints }))),
  describe: (p) => `likelihood z ${p.z}, long ${p.longPoints}`,
  create: (p) => {
    const e = engineDetector({ likelihoodZ: 0 })
    const l = new Thresholded(new LikelihoodScorer({ ...DEFAULT_LIKELIHOOD, longPoints: p.longPoints }), p.z, 0, WARMUP)
    let since = 1e9
    return {
      observe: (atMs, x) => {
        const a = e.observe(atMs, x)
        const b = l.observe(atMs, x)
        since++
        if (a || (b && since >= REST)) { since = 0; return true }
        return false
      },
      exportState: () => ({ e: e.exportState(), l: l.exportState(), since })
    }
  }
})

export const CANDIDATES: Array<Candidate<unknown>> = [engineCandidate, recordsCandidate, ensembleCandidate, likelihoodCandidate, contextCandidate, changePointCandidate, zscoreCandidate]
