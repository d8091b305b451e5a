/**
 * What each probe costs and whether it works on this machine: wall time per
 * run (last, median of recent runs, max), metric count, and the reasons it
 * gave for what it could not measure. Read by `vigie-agent doctor` and logs.
 */
import type { Probe, ProbeRun } from './probes/probe.js'

export interface ProbeStat {
  name: string
  /** cadence, seconds (0 = every collection) */
  everySec: number
  runs: number
  /** wall time of the last run, ms */
  lastMs: number
  /** median wall time over the recent runs, ms */
  medianMs: number
  maxMs: number
  /** metric values the last run produced */
  metrics: number
  /** 'works' (all measured), 'partial' (some parts unavailable), 'unavailable' (nothing measured), 'failed' (error or timeout), 'not-run' */
  status: 'works' | 'partial' | 'unavailable' | 'failed' | 'not-run'
  /** reasons from the last run */
  reasons: string[]
  /** what needs elevated rights, if anything */
  elevation?: string
}

const WINDOW = 32

/** Classifies one run. Host facts and inventory count as output even without metrics. */
export function runStatus (r: ProbeRun): ProbeStat['status'] {
  if (r.failed) return 'failed'
  const produced = r.metrics.length > 0 || r.host !== undefined || r.inventory !== undefined
  if (!produced) return 'unavailable'
  return (r.unavailable ?? []).length > 0 ? 'partial' : 'works'
}

export class ProbeStats {
  readonly #recent = new Map<string, number[]>()
  readonly #last = new Map<string, { run: ProbeRun, runs: number, maxMs: number }>()

  record (probe: Probe, run: ProbeRun): void {
    const list = this.#recent.get(probe.name) ?? []
    list.push(run.ms)
    if (list.length > WINDOW) list.shift()
    this.#recent.set(probe.name, list)
    const prev = this.#last.get(probe.name)
    this.#last.set(probe.name, { run, runs: (prev?.runs ?? 0) + 1, maxMs: Math.max(prev?.maxMs ?? 0, run.ms) })
  }

  list (probes: readonly Probe[]): ProbeStat[] {
    return probes.map(p => {
      const last = this.#last.get(p.name)
      const recent = [...(this.#recent.get(p.name) ?? [])].sort((a, b) => a - b)
      const r2 = (v: number): number => Math.round(v * 100) / 100
      return {
        name: p.name,
        everySec: p.everySec ?? 0,
        runs: last?.runs ?? 0,
        lastMs: r2(last?.run.ms ?? 0),
        medianMs: r2(recent.length === 0 ? 0 : recent[Math.floor(recent.length / 2)]),
        maxMs: r2(last?.maxMs ?? 0),
        metrics: last?.run.metrics.length ?? 0,
        status: last === undefined ? 'not-run' : runStatus(last.run),
        reasons: (last?.run.unavailable ?? []).map(u => `${u.probe}: ${u.reason}`),
        ...(p.elevation !== undefined ? { elevation: p.elevation } : {})
      }
    })
  }
}
