/**
 * Disk I/O rates per physical disk (bytes read/written per second, busy
 * percent), between two readings of the counters. One file per OS reads them:
 * disk-io-linux.ts, disk-io-darwin.ts, disk-io-win32.ts.
 */
import type { Measurement } from '../sample.js'
import { round, type Collect } from './probe.js'

export interface DiskCounters { readBytes: number, writeBytes: number, reads: number, writes: number, ioMs: number }

/** Rates between two readings `elapsedSec` apart. A counter that went backwards (wrap, hot-plug) yields 0. */
export function diskIoMetrics (prev: Map<string, DiskCounters>, now: Map<string, DiskCounters>, elapsedSec: number): Measurement[] {
  const out: Measurement[] = []
  if (elapsedSec <= 0) return out
  for (const [device, c] of now) {
    const p = prev.get(device)
    if (p === undefined) continue
    const rate = (a: number, b: number): number => round(Math.max(0, b - a) / elapsedSec)
    const labels = { device }
    out.push(
      { name: 'disk.read_bytes_per_sec', unit: 'bytes_per_second', value: rate(p.readBytes, c.readBytes), labels },
      { name: 'disk.write_bytes_per_sec', unit: 'bytes_per_second', value: rate(p.writeBytes, c.writeBytes), labels },
      { name: 'disk.reads_per_sec', unit: 'count_per_second', value: rate(p.reads, c.reads), labels },
      { name: 'disk.writes_per_sec', unit: 'count_per_second', value: rate(p.writes, c.writes), labels },
      { name: 'disk.busy_pct', unit: 'percent', value: round(Math.min(100, Math.max(0, c.ioMs - p.ioMs) / (elapsedSec * 10))), labels }
    )
  }
  return out
}

/** Rates from successive readings; the first run only sets the baseline, so rates start with the next collection. */
export function diskRates (read: () => Promise<Map<string, DiskCounters>>): Collect {
  let prev: Map<string, DiskCounters> | undefined
  let prevAt = 0
  return async () => {
    const now = await read()
    const at = performance.now()
    const metrics = prev === undefined ? [] : diskIoMetrics(prev, now, (at - prevAt) / 1000)
    prev = now
    prevAt = at
    // Counters a platform does not give (NaN) yield no value rather than a fake one.
    return { metrics: metrics.filter(m => Number.isFinite(m.value)) }
  }
}
