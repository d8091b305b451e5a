/**
 * A probe reads one area of the machine's health and returns plain typed values
 * with units. Probes never throw out of a collection: the runner turns an error or
 * a timeout into an `unavailable` entry with the reason, and measures what each
 * run cost (wall time), which `vigie-agent doctor` prints.
 */
import type { Sample } from '../sample.js'
import type { CommandResult } from './run-command.js'

export interface Probe {
  /** short stable name, used in `unavailable[].probe` and in config overrides */
  name: string
  /** a run longer than this is abandoned and reported as unavailable */
  timeoutMs: number
  /** run at most every this many seconds (0 = every collection) */
  everySec?: number
  /** what needs elevated rights (root / Administrator) for full results, if anything */
  elevation?: string
  collect: Collect
}

/** One collection of a probe; a closure keeps what it needs between runs (the previous counters of a rate). */
export type Collect = () => Promise<Sample>

/** The operating systems the agent runs on; each probe has one implementation per OS (registry.ts). */
export type ProbeOs = 'linux' | 'darwin' | 'win32'

/** Where a probe reads from; tests point these at recorded fixtures. */
export interface ProbeEnv {
  /** filesystem root for /proc and /sys (default '/') */
  root?: string
  /** runs an external command (default: runCommand); tests replay recorded outputs */
  run?: (file: string, args: readonly string[], opts: { timeoutMs: number, maxBytes?: number }) => Promise<CommandResult>
}

/** One probe run: its result and what it cost. */
export interface ProbeRun extends Sample {
  /** wall time of the run, ms */
  ms: number
  /** true when the run failed or timed out (as opposed to hardware simply being absent) */
  failed: boolean
}

/** Runs one probe with its timeout; never rejects. */
export async function runProbe (probe: Probe): Promise<ProbeRun> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`timed out after ${probe.timeoutMs} ms`)) }, probe.timeoutMs)
    })
    const r = await Promise.race([probe.collect(), timeout])
    return { ...r, ms: performance.now() - started, failed: false }
  } catch (err) {
    return { metrics: [], unavailable: [{ probe: probe.name, reason: `error: ${(err as Error).message ?? String(err)}`.slice(0, 500) }], ms: performance.now() - started, failed: true }
  } finally {
    if (timer !== undefined) clearTimeout(timer)
  }
}

/** Rounds to a sensible precision so reports stay small. */
export function round (value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Shorthand for a result that says only why nothing was measured. */
export function unavailable (probe: string, reason: string): Sample {
  return { metrics: [], unavailable: [{ probe, reason: reason.slice(0, 500) }] }
}
