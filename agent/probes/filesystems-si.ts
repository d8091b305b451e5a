/** Filesystems on macOS and Windows, from systeminformation (`df`, WMI). */
import { si } from './si.js'
import type { Collect } from './probe.js'
import { filesystemMetrics } from './filesystems.js'

export function siFilesystems (): Collect {
  return async () => {
    const list = await (await si()).fsSize()
    return { metrics: filesystemMetrics(list.map(e => ({ mount: e.mount, type: e.type, size: e.size, used: e.used, available: e.available }))) }
  }
}
