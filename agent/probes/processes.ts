/**
 * The processes that use the most CPU and memory, grouped by name (ten Chrome
 * processes are one "chrome"), bounded to the top N of each. CPU is percent of
 * one core, averaged since the previous run, so it can exceed 100 for a
 * multi-threaded program. One file per OS family lists the processes
 * (processes-linux.ts: /proc/<pid>/stat, no `ps`; processes-si.ts); this one ranks them.
 */
import type { Measurement } from '../sample.js'
import { round } from './probe.js'

/** Linux reports times in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICKS_PER_SEC = 100

export interface ProcSample { pid: number, name: string, cpuTicks: number, rssBytes: number }

/** Top `n` names by CPU (needs a previous sample) and by resident memory. */
export function topProcessMetrics (prev: Map<number, ProcSample> | undefined, now: readonly ProcSample[], elapsedSec: number, n: number): Measurement[] {
  const cpu = new Map<string, number>()
  const rss = new Map<string, number>()
  for (const p of now) {
    rss.set(p.name, (rss.get(p.name) ?? 0) + p.rssBytes)
    const before = prev?.get(p.pid)
    // A pid reused by another program would give nonsense; require the same name.
    if (before !== undefined && before.name === p.name && elapsedSec > 0) {
      cpu.set(p.name, (cpu.get(p.name) ?? 0) + Math.max(0, p.cpuTicks - before.cpuTicks) / TICKS_PER_SEC / elapsedSec * 100)
    }
  }
  const top = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n)
  const out: Measurement[] = []
  if (prev !== undefined) for (const [name, v] of top(cpu)) out.push({ name: 'proc.cpu_pct', unit: 'percent', value: round(v, 1), labels: { name: name.slice(0, 128) } })
  for (const [name, v] of top(rss)) if (v > 0) out.push({ name: 'proc.rss_bytes', unit: 'bytes', value: v, labels: { name: name.slice(0, 128) } })
  return out
}
