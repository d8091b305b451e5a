/**
 * Every mounted filesystem that holds user data: size, used bytes and percent,
 * inode use. One file per OS family lists and measures the mounts
 * (filesystems-linux.ts, filesystems-si.ts); this one turns them into metrics.
 */
import type { Measurement } from '../sample.js'
import { round } from './probe.js'

/** Pseudo, in-memory and read-only image filesystems say nothing about disk space. */
export const IGNORED_TYPES = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'autofs', 'nsfs',
  'fuse.lxcfs', 'efivarfs', 'ramfs', 'devpts', 'mqueue', 'hugetlbfs', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf',
  'configfs', 'fusectl', 'binfmt_misc', 'rpc_pipefs', 'fuse.gvfsd-fuse', 'fuse.portal', 'iso9660', 'udf', 'nullfs', 'devfs'])

export interface FsStats { size: number, used: number, available: number, inodes?: number, inodesFree?: number }
export interface FsEntry extends FsStats { mount: string, type: string }

/** Metrics for the filesystems worth reporting. `used_pct` matches `df`: used / (used + available to users). */
export function filesystemMetrics (entries: readonly FsEntry[]): Measurement[] {
  const metrics: Measurement[] = []
  const seen = new Set<string>()
  for (const e of entries) {
    if (IGNORED_TYPES.has(e.type) || e.size <= 0 || seen.has(e.mount)) continue
    if (!e.mount.startsWith('/') && !/^[A-Z]:/i.test(e.mount)) continue
    seen.add(e.mount)
    const labels = { mount: e.mount }
    const denom = e.used + e.available
    metrics.push(
      { name: 'fs.size_bytes', unit: 'bytes', value: e.size, labels },
      { name: 'fs.used_bytes', unit: 'bytes', value: e.used, labels },
      { name: 'fs.free_bytes', unit: 'bytes', value: e.available, labels },
      { name: 'fs.used_pct', unit: 'percent', value: denom > 0 ? round(100 * e.used / denom) : 0, labels }
    )
    if (e.inodes !== undefined && e.inodesFree !== undefined && e.inodes > 0) {
      metrics.push({ name: 'fs.inodes_used_pct', unit: 'percent', value: round(100 * (e.inodes - e.inodesFree) / e.inodes), labels })
    }
  }
  return metrics
}
