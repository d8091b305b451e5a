/**
 * Fleet outliers: a machine compared with its cohort (same hardware model and OS
 * version) on signals that should be alike across identical machines: CPU
 * temperature at similar (low) load, battery health, boot time.
 *
 * Each machine keeps a slow EWMA per signal. On tick, for every cohort with at
 * least `minCohort` machines reporting the signal, a robust z-score against the
 * cohort median and MAD (×1.4826) is computed; a machine opens an outlier finding
 * at |z| ≥ z and at least `minDiff` away from the median, and clears below clearZ.
 */
import type { FleetSignal } from './rules.js'

const EWMA = 0.05

/** Per machine, per signal: smoothed value and sample count; plain JSON. */
export interface SignalState { v: number, n: number, open: boolean }

/** Update a machine's smoothed signal with one sample. */
export function recordSignal (st: SignalState | undefined, value: number): SignalState {
  if (st === undefined) return { v: value, n: 1, open: false }
  st.n++
  st.v += Math.max(EWMA, 1 / st.n) * (value - st.v)
  return st
}

export interface CohortMember { machineId: string, state: SignalState }

export interface OutlierVerdict {
  machineId: string
  state: 'open' | 'clear'
  value: number
  median: number
  mad: number
  z: number
  cohortSize: number
}

/** Judge one cohort on one signal; returns the machines whose outlier state changes. */
export function judgeCohort (signal: FleetSignal, members: CohortMember[], cfg: { minCohort: number, z: number, clearZ: number }, minSamples = 10): OutlierVerdict[] {
  const ready = members.filter((m) => m.state.n >= minSamples)
  const out: OutlierVerdict[] = []
  if (ready.length < cfg.minCohort) {
    // too few to judge: close whatever was open
    for (const m of members) {
      if (m.state.open) { m.state.open = false; out.push({ machineId: m.machineId, state: 'clear', value: m.state.v, median: NaN, mad: NaN, z: 0, cohortSize: ready.length }) }
    }
    return out
  }
  const values = ready.map((m) => m.state.v)
  const median = medianOf(values)
  const mad = medianOf(values.map((v) => Math.abs(v - median))) * 1.4826
  // a floor on the spread so a cohort of identical readings does not make 0.1 °C an outlier
  const spread = Math.max(mad, signal.minDiff / cfg.z, 1e-9)
  for (const m of ready) {
    const d = m.state.v - median
    const z = d / spread
    if (!m.state.open && Math.abs(z) >= cfg.z && Math.abs(d) >= signal.minDiff) {
      m.state.open = true
      out.push({ machineId: m.machineId, state: 'open', value: m.state.v, median, mad, z, cohortSize: ready.length })
    } else if (m.state.open && Math.abs(z) < cfg.clearZ) {
      m.state.open = false
      out.push({ machineId: m.machineId, state: 'clear', value: m.state.v, median, mad, z, cohortSize: ready.length })
    }
  }
  return out
}

function medianOf (a: number[]): number {
  const s = [...a].sort((x, y) => x - y)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
