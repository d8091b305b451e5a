/** Uptime, boot time, processes and users on Linux: /proc/stat btime, /proc, systemd-logind's /run/systemd/users or utmp. */
import os from 'node:os'
import fs from 'node:fs'
import path from 'node:path'
import { parseProcStat } from './cpu-linux.js'
import { listDir, readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { systemSample } from './system.js'

/** glibc's struct utmp on Linux: 384-byte records, ut_type (int16) at 0, ut_user (32 bytes) at 44. */
const UTMP_RECORD = 384
const USER_PROCESS = 7

/** Distinct users with a login session in a utmp file. */
export function parseUtmp (buf: Buffer): string[] {
  const users = new Set<string>()
  for (let off = 0; off + UTMP_RECORD <= buf.length; off += UTMP_RECORD) {
    if (buf.readInt16LE(off) !== USER_PROCESS) continue
    const raw = buf.subarray(off + 44, off + 76)
    const end = raw.indexOf(0)
    const name = raw.subarray(0, end === -1 ? raw.length : end).toString('utf8')
    if (name !== '') users.add(name)
  }
  return [...users].sort()
}

/** A systemd-logind user file (`/run/systemd/users/<uid>`): name and state. */
export function parseLogindUser (text: string): { name?: string, state?: string } {
  const kv = Object.fromEntries(text.split('\n').map(l => l.split('=')).filter(p => p.length >= 2).map(([k, ...v]) => [k, v.join('=')]))
  return { name: kv.NAME, state: kv.STATE }
}

/** Logged-in users (by name, active first), or undefined when this machine keeps no record we can read. */
export async function readLinuxUsers (root: string): Promise<string[] | undefined> {
  const dir = 'run/systemd/users'
  try {
    // /run/systemd/system exists only while systemd is PID 1 (sd_booted); otherwise the users folder is stale.
    fs.accessSync(path.join(root, 'run/systemd/system'))
    fs.accessSync(path.join(root, dir))
    const active: string[] = []
    const other: string[] = []
    for (const uid of await listDir(root, dir)) {
      const u = parseLogindUser((await readText(root, `${dir}/${uid}`)) ?? '')
      // "lingering" users have services running but nobody logged in.
      if (u.name === undefined || u.state === 'lingering' || u.state === 'closing') continue
      if (u.state === 'active') active.push(u.name)
      else other.push(u.name)
    }
    return [...active, ...other]
  } catch { /* no logind */ }
  for (const f of ['run/utmp', 'var/run/utmp']) {
    try { return parseUtmp(fs.readFileSync(path.join(root, f))) } catch { /* next */ }
  }
  return undefined
}

export function linuxSystem (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async () => {
    const uptime = os.uptime()
    const at = Date.now()
    // btime is exact; now − uptime drifts by a second either way between reports.
    const btime = parseProcStat((await readText(root, 'proc/stat')) ?? '').bootTimeSec
    const processCount = (await listDir(root, 'proc')).filter(e => /^\d+$/.test(e)).length
    const users = await readLinuxUsers(root)
    return systemSample(uptime, at, { ...(btime !== undefined ? { bootMs: btime * 1000 } : {}), processCount, users }, true)
  }
}
