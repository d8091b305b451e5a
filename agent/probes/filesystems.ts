/**
 * Every mounted filesystem that holds user data: size, used bytes and percent,
 * inode use. Linux: /proc/mounts + statfs (no `df` process); elsewhere
 * systeminformation. Network filesystems are skipped: statfs on a dead NFS
 * server can block a thread for minutes.
 */
import fs from 'node:fs/promises'
import { si } from './si.js'
import type { Measurement } from '../sample.js'
import { readText } from './read-file.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

/** Pseudo, in-memory and read-only image filesystems say nothing about disk space. */
const IGNORED_TYPES = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'overlay', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'autofs', 'nsfs',
  'fuse.lxcfs', 'efivarfs', 'ramfs', 'devpts', 'mqueue', 'hugetlbfs', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf',
  'configfs', 'fusectl', 'binfmt_misc', 'rpc_pipefs', 'fuse.gvfsd-fuse', 'fuse.portal', 'iso9660', 'udf', 'nullfs', 'devfs'])
const NETWORK_TYPES = /^(nfs4?|cifs|smb3?|smbfs|afs|ncpfs|9p|ceph|glusterfs|fuse\.sshfs|fuse\.rclone|davfs|fuse\.s3fs)$/
const SYSTEM_MOUNTS = /^\/(proc|sys|dev)(\/|$)|^\/run(?!\/media)(\/|$)|^\/snap\//

export interface MountEntry { device: string, mount: string, type: string }
export interface FsStats { size: number, used: number, available: number, inodes?: number, inodesFree?: number }
export interface FsEntry extends FsStats { mount: string, type: string }

/** /proc/mounts fields escape space, tab, newline and backslash as octal. */
function unescapeMount (s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
}

/** Parses /proc/mounts and keeps one mount per local data filesystem (bind mounts of a device are dropped). */
export function parseMounts (text: string): MountEntry[] {
  const out: MountEntry[] = []
  const devices = new Set<string>()
  for (const line of text.split('\n')) {
    const [dev, mnt, type] = line.split(' ')
    if (type === undefined) continue
    const mount = unescapeMount(mnt)
    const device = unescapeMount(dev)
    if (IGNORED_TYPES.has(type) || NETWORK_TYPES.test(type) || SYSTEM_MOUNTS.test(mount)) continue
    // btrfs subvolumes and bind mounts repeat one device: the first mount (usually the shortest path) speaks for it.
    if (device.startsWith('/') && devices.has(device)) continue
    devices.add(device)
    out.push({ device, mount, type })
  }
  return out
}

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

/** statfs of one mount, in bytes. */
export async function statMount (mount: string): Promise<FsStats> {
  const s = await fs.statfs(mount)
  return {
    size: s.blocks * s.bsize,
    used: (s.blocks - s.bfree) * s.bsize,
    available: s.bavail * s.bsize,
    inodes: s.files,
    inodesFree: s.ffree
  }
}

export function filesystemsProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'filesystems',
    timeoutMs: 10_000,
    async collect () {
      if (platform === 'linux') {
        const text = await readText(root, 'proc/mounts')
        if (text === undefined) throw new Error('cannot read /proc/mounts')
        const entries: FsEntry[] = []
        for (const m of parseMounts(text)) {
          try { entries.push({ mount: m.mount, type: m.type, ...await statMount(m.mount) }) } catch { /* unmounted meanwhile, or no permission */ }
        }
        return { metrics: filesystemMetrics(entries) }
      }
      const list = await (await si()).fsSize()
      return { metrics: filesystemMetrics(list.map(e => ({ mount: e.mount, type: e.type, size: e.size, used: e.used, available: e.available }))) }
    }
  }
}
