/** Every mounted filesystem that holds user data: size, used bytes, used percent. */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe } from './probe.js'

/** Pseudo and read-only image filesystems say nothing about disk space. */
const IGNORED_TYPES = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'autofs', 'nsfs', 'fuse.lxcfs', 'efivarfs', 'ramfs'])

export interface FsEntry { fs: string, type: string, size: number, used: number, mount: string }

/** Pure selection of the filesystems worth reporting (exported for tests). */
export function filesystemMetrics (entries: readonly FsEntry[]): MetricValue[] {
  const metrics: MetricValue[] = []
  const seen = new Set<string>()
  for (const e of entries) {
    if (IGNORED_TYPES.has(e.type) || e.size <= 0 || seen.has(e.mount)) continue
    // Bind mounts of one device (e.g. /etc/hosts in a container) would repeat the same disk.
    if (!e.mount.startsWith('/') && !/^[A-Z]:/i.test(e.mount)) continue
    seen.add(e.mount)
    const labels = { mount: e.mount }
    metrics.push(
      { name: 'fs.size_bytes', unit: 'bytes', value: e.size, labels },
      { name: 'fs.used_bytes', unit: 'bytes', value: e.used, labels },
      { name: 'fs.used_pct', unit: 'percent', value: round(100 * e.used / e.size), labels }
    )
  }
  return metrics
}

export function filesystemsProbe (): Probe {
  return {
    name: 'filesystems',
    timeoutMs: 10_000,
    async collect () {
      const list = await si.fsSize()
      const files = list.filter(e => e.type !== undefined && !e.mount.startsWith('/etc/') && !e.mount.startsWith('/proc'))
      return { metrics: filesystemMetrics(files.map(e => ({ fs: e.fs, type: e.type, size: e.size, used: e.used, mount: e.mount }))) }
    }
  }
}
