/** Disk I/O on Windows: not read yet; the report says so. */
import type { Collect } from './probe.js'

export function win32DiskIo (): Collect {
  return async () => ({ metrics: [], unavailable: [{ probe: 'disk_io', reason: 'disk I/O rates are not read on Windows yet' }] })
}
