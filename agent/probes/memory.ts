/** Memory and swap use, in bytes and percent. Linux: /proc/meminfo; elsewhere systeminformation. */
import { si } from './si.js'
import type { Measurement } from '../sample.js'
import { readText } from './read-file.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

export interface MemReading { total: number, available: number, swapTotal: number, swapFree: number }

/** Parses /proc/meminfo (values in kB) into bytes. */
export function parseMeminfo (text: string): MemReading {
  const kv = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line)
    if (m !== null) kv.set(m[1], Number(m[2]) * 1024)
  }
  const total = kv.get('MemTotal') ?? 0
  // Kernels before 3.14 have no MemAvailable; free + page cache is the usual estimate.
  const available = kv.get('MemAvailable') ?? ((kv.get('MemFree') ?? 0) + (kv.get('Buffers') ?? 0) + (kv.get('Cached') ?? 0))
  return { total, available, swapTotal: kv.get('SwapTotal') ?? 0, swapFree: kv.get('SwapFree') ?? 0 }
}

export function memoryMetrics (m: MemReading): Measurement[] {
  // "used" excludes page cache and buffers: what a user would call used memory.
  const used = Math.max(0, m.total - m.available)
  const swapUsed = Math.max(0, m.swapTotal - m.swapFree)
  const metrics: Measurement[] = [
    { name: 'mem.total_bytes', unit: 'bytes', value: m.total },
    { name: 'mem.used_bytes', unit: 'bytes', value: used },
    { name: 'mem.available_bytes', unit: 'bytes', value: m.available },
    { name: 'mem.used_pct', unit: 'percent', value: m.total > 0 ? round(100 * used / m.total) : 0 },
    { name: 'swap.total_bytes', unit: 'bytes', value: m.swapTotal },
    { name: 'swap.used_bytes', unit: 'bytes', value: swapUsed }
  ]
  if (m.swapTotal > 0) metrics.push({ name: 'swap.used_pct', unit: 'percent', value: round(100 * swapUsed / m.swapTotal) })
  return metrics
}

export function memoryProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'memory',
    timeoutMs: 3000,
    async collect () {
      let m: MemReading
      if (platform === 'linux') {
        const text = await readText(root, 'proc/meminfo')
        if (text === undefined) throw new Error('cannot read /proc/meminfo')
        m = parseMeminfo(text)
      } else {
        const s = await (await si()).mem()
        m = { total: s.total, available: s.available, swapTotal: s.swaptotal, swapFree: s.swapfree }
      }
      return { metrics: memoryMetrics(m), host: { memTotalBytes: m.total } }
    }
  }
}
