/**
 * Memory and swap use, in bytes and percent. One file per OS family reads the
 * figures (memory-linux.ts, memory-si.ts); this one turns them into a sample.
 */
import type { Measurement, Sample } from '../sample.js'
import { round } from './probe.js'

export interface MemReading { total: number, available: number, swapTotal: number, swapFree: number }

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

/** The memory probe's sample: the metrics, and the total as a host fact. */
export function memorySample (m: MemReading): Sample {
  return { metrics: memoryMetrics(m), host: { memTotalBytes: m.total } }
}
