/**
 * Disk I/O rates per physical disk (bytes read/written per second, busy percent).
 * Linux: /proc/diskstats deltas (sectors are always 512 bytes there).
 * Elsewhere: systeminformation's machine-wide totals, as device "all".
 */
import { si } from './si.js'
import type { Measurement } from '../sample.js'
import { readText } from './read-file.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

export interface DiskCounters { readBytes: number, writeBytes: number, reads: number, writes: number, ioMs: number }

/** Partitions, loop/ram/zram devices and device-mapper layers would count the same I/O twice or not at all. */
const NOT_A_DISK = /^(loop\d+|ram\d+|zram\d+|sr\d+|fd\d+|dm-\d+|md\d+p\d+|(sd|vd|hd|xvd)[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+|mmcblk\d+boot\d+|mmcblk\d+rpmb)$/

/** Parses /proc/diskstats into counters per whole disk. */
export function parseDiskstats (text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>()
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length < 14) continue
    const name = f[2]
    if (NOT_A_DISK.test(name)) continue
    out.set(name, {
      reads: Number(f[3]),
      readBytes: Number(f[5]) * 512,
      writes: Number(f[7]),
      writeBytes: Number(f[9]) * 512,
      ioMs: Number(f[12])
    })
  }
  return out
}

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

export function diskIoProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  let prev: Map<string, DiskCounters> | undefined
  let prevAt = 0
  return {
    name: 'disk_io',
    timeoutMs: 5000,
    async collect () {
      let now: Map<string, DiskCounters>
      if (platform === 'linux') {
        const text = await readText(root, 'proc/diskstats')
        if (text === undefined) throw new Error('cannot read /proc/diskstats')
        now = parseDiskstats(text)
      } else if (platform === 'win32') {
        return { metrics: [], unavailable: [{ probe: 'disk_io', reason: 'disk I/O rates are not read on Windows yet' }] }
      } else {
        // macOS: systeminformation only gives machine-wide operation counts.
        const d = await (await si()).disksIO()
        now = new Map([['all', { reads: d.rIO, writes: d.wIO, readBytes: NaN, writeBytes: NaN, ioMs: NaN }]])
      }
      const at = performance.now()
      const metrics = prev === undefined ? [] : diskIoMetrics(prev, now, (at - prevAt) / 1000)
      // The first run only sets the baseline: rates start with the next collection.
      prev = now
      prevAt = at
      return { metrics: metrics.filter(m => Number.isFinite(m.value)) }
    }
  }
}
