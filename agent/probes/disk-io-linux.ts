/** Disk I/O counters on Linux: /proc/diskstats, whole disks only (sectors are always 512 bytes there). */
import { readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { diskRates, type DiskCounters } from './disk-io.js'

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

export function linuxDiskIo (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return diskRates(async () => {
    const text = await readText(root, 'proc/diskstats')
    if (text === undefined) throw new Error('cannot read /proc/diskstats')
    return parseDiskstats(text)
  })
}
