/**
 * Uptime and boot time (so unexpected reboots show), load average, process
 * count, logged-in users. One file per OS family reads them (system-linux.ts,
 * system-si.ts); this one turns them into a sample.
 */
import os from 'node:os'
import type { HostSample, Measurement, NotMeasured, Sample } from '../sample.js'
import { round } from './probe.js'

/** What an OS file read: boot time (epoch ms, when it knows better than now − uptime), processes, users (undefined: no record). */
export interface SystemReading { bootMs?: number, processCount: number, users: string[] | undefined }

/**
 * The system probe's sample. `uptimeSec` and `atMs` (epoch ms) are read
 * together before the rest: the fallback boot time; `loadAverage` is false where the OS has none (Windows).
 */
export function systemSample (uptimeSec: number, atMs: number, r: SystemReading, loadAverage: boolean): Sample {
  const metrics: Measurement[] = [{ name: 'system.uptime_s', unit: 'seconds', value: Math.round(uptimeSec) }]
  const unavailable: NotMeasured[] = []
  const host: HostSample = {}
  const bootMs = r.bootMs ?? atMs - uptimeSec * 1000
  metrics.push({ name: 'system.process_count', unit: 'count', value: r.processCount })
  if (loadAverage) {
    const [l1, l5, l15] = os.loadavg()
    metrics.push(
      { name: 'load.avg1', unit: 'count', value: round(l1) },
      { name: 'load.avg5', unit: 'count', value: round(l5) },
      { name: 'load.avg15', unit: 'count', value: round(l15) }
    )
  }
  if (r.users !== undefined) {
    metrics.push({ name: 'system.users_count', unit: 'count', value: r.users.length })
    if (r.users.length > 0) host.user = r.users[0]
  } else {
    unavailable.push({ probe: 'system.users', reason: 'no systemd-logind records and no utmp file' })
  }
  host.bootTime = new Date(Math.round(bootMs / 1000) * 1000).toISOString()
  return { metrics, unavailable, host }
}
