/**
 * The processes that use the most CPU and memory, grouped by name (ten Chrome
 * processes are one "chrome"), bounded to the top N of each. Linux: /proc/<pid>/stat
 * (no `ps`); elsewhere systeminformation. CPU is percent of one core, averaged
 * since the previous run, so it can exceed 100 for a multi-threaded program.
 */
import fs from 'node:fs'
import path from 'node:path'
import { si } from './si.js'
import type { Measurement } from '../sample.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

/** Linux reports times in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICKS_PER_SEC = 100
/** rss is in pages; 4 KiB on x86 and on the common arm64 kernels. */
const PAGE_BYTES = 4096

export interface ProcSample { pid: number, name: string, cpuTicks: number, rssBytes: number }

/** Parses one /proc/<pid>/stat line. The name sits in parentheses and may itself contain spaces and parentheses. */
export function parsePidStat (text: string): ProcSample | undefined {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open === -1 || close < open) return undefined
  const f = text.slice(close + 2).split(' ')
  // f[0] is field 3 (state): utime is field 14, stime 15, rss 24.
  const utime = Number(f[11])
  const stime = Number(f[12])
  const rss = Number(f[21])
  if (!Number.isFinite(utime) || !Number.isFinite(rss)) return undefined
  return { pid: Number(text.slice(0, open)), name: text.slice(open + 1, close), cpuTicks: utime + stime, rssBytes: rss * PAGE_BYTES }
}

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

/** Reads /proc/<pid>/stat for every process (synchronously: hundreds of tiny reads are faster than as many promises). */
export function readLinuxProcesses (root: string): ProcSample[] {
  const proc = path.join(root, 'proc')
  const out: ProcSample[] = []
  let entries: string[]
  try { entries = fs.readdirSync(proc) } catch { return out }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue
    try {
      // Concatenated, not path.join: hundreds of calls a run, and `proc` is already normal.
      const s = parsePidStat(fs.readFileSync(`${proc}/${e}/stat`, 'utf8'))
      if (s !== undefined) out.push(s)
    } catch { /* exited meanwhile */ }
  }
  return out
}

export function processesProbe (env: ProbeEnv & { top?: number } = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  const n = env.top ?? 5
  let prev: Map<number, ProcSample> | undefined
  let prevAt = 0
  return {
    name: 'processes',
    timeoutMs: 10_000,
    everySec: 60,
    async collect () {
      if (platform !== 'linux') {
        const list = (await (await si()).processes()).list
        const samples: ProcSample[] = list.map(p => ({ pid: p.pid, name: p.name, cpuTicks: 0, rssBytes: p.memRss * 1024 }))
        const metrics = topProcessMetrics(undefined, samples, 0, n)
        const cpu = new Map<string, number>()
        for (const p of list) cpu.set(p.name, (cpu.get(p.name) ?? 0) + p.cpu)
        for (const [name, v] of [...cpu].sort((a, b) => b[1] - a[1]).slice(0, n)) metrics.push({ name: 'proc.cpu_pct', unit: 'percent', value: round(v, 1), labels: { name: name.slice(0, 128) } })
        return { metrics }
      }
      if (prev === undefined) {
        // First run: a short baseline so the first report already names the busy programs.
        prev = new Map(readLinuxProcesses(root).map(p => [p.pid, p]))
        prevAt = performance.now()
        await new Promise(resolve => setTimeout(resolve, 500))
      }
      const now = readLinuxProcesses(root)
      const at = performance.now()
      const metrics = topProcessMetrics(prev, now, (at - prevAt) / 1000, n)
      prev = new Map(now.map(p => [p.pid, p]))
      prevAt = at
      return { metrics }
    }
  }
}
