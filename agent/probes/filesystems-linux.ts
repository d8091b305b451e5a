/**
 * Filesystems on Linux: /proc/mounts + statfs (no `df` process). Network
 * filesystems are skipped: statfs on a dead NFS server can block a thread for
 * minutes.
 */
import fs from 'node:fs/promises'
import { readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { filesystemMetrics, IGNORED_TYPES, type FsEntry, type FsStats } from './filesystems.js'

const NETWORK_TYPES = /^(nfs4?|cifs|smb3?|smbfs|afs|ncpfs|9p|ceph|glusterfs|fuse\.sshfs|fuse\.rclone|davfs|fuse\.s3fs)$/
const SYSTEM_MOUNTS = /^\/(proc|sys|dev)(\/|$)|^\/run(?!\/media)(\/|$)|^\/snap\//

export interface MountEntry { device: string, mount: string, type: string }

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

export function linuxFilesystems (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async () => {
    const text = await readText(root, 'proc/mounts')
    if (text === undefined) throw new Error('cannot read /proc/mounts')
    const entries: FsEntry[] = []
    for (const m of parseMounts(text)) {
      try { entries.push({ mount: m.mount, type: m.type, ...await statMount(m.mount) }) } catch { /* unmounted meanwhile, or no permission */ }
    }
    return { metrics: filesystemMetrics(entries) }
  }
}
