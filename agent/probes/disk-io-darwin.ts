/** Disk I/O on macOS: systeminformation gives only machine-wide operation counts, reported as device "all". */
import { si } from './si.js'
import type { Collect } from './probe.js'
import { diskRates } from './disk-io.js'

export function darwinDiskIo (): Collect {
  return diskRates(async () => {
    const d = await (await si()).disksIO()
    return new Map([['all', { reads: d.rIO, writes: d.wIO, readBytes: NaN, writeBytes: NaN, ioMs: NaN }]])
  })
}
