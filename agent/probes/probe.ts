/**
 * A probe reads one area of the machine's health and returns plain typed values
 * with units. Probes never throw out of a collection: the runner turns an error or
 * a timeout into an `unavailable` entry with the reason.
 */
import type { HostFacts, MetricValue, Unavailable } from '../../protocol/index.js'

export interface ProbeResult {
  metrics: MetricValue[]
  /** parts of the probe that are absent here, with why (no battery, no sensors, …) */
  unavailable?: Unavailable[]
  /** host facts this probe contributes */
  host?: Partial<HostFacts>
}

export interface Probe {
  /** short stable name, used in `unavailable[].probe` */
  name: string
  /** a run longer than this is abandoned and reported as unavailable */
  timeoutMs: number
  /** run at most every this many seconds (0 = every collection) */
  everySec?: number
  collect (): Promise<ProbeResult>
}

/** Runs one probe with its timeout; never rejects. */
export async function runProbe (probe: Probe): Promise<ProbeResult & { ms: number }> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`timed out after ${probe.timeoutMs} ms`)) }, probe.timeoutMs)
    })
    const r = await Promise.race([probe.collect(), timeout])
    return { ...r, ms: performance.now() - started }
  } catch (err) {
    return { metrics: [], unavailable: [{ probe: probe.name, reason: `error: ${(err as Error).message ?? String(err)}`.slice(0, 500) }], ms: performance.now() - started }
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

/** Rounds to a sensible precision so reports stay small. */
export function round (value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
