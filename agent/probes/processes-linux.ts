/** Processes on Linux, from /proc/<pid>/stat (no `ps`). */
import fs from 'node:fs'
import path from 'node:path'
import type { Collect, ProbeEnv } from './probe.js'
import { topProcessMetrics, type ProcSample } from './processes.js'

/** rss is in pages; 4 KiB on x86 and on the common arm64 kernels. */
const PAGE_BYTES = 4096

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

/** The top `n` by CPU and by memory; the first run takes a short baseline so the first report already names the busy programs. */
export function linuxProcesses (env: ProbeEnv = {}, n = 5): Collect {
  const root = env.root ?? '/'
  let prev: Map<number, ProcSample> | undefined
  let prevAt = 0
  return async () => {
    if (prev === undefined) {
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
