/** Uptime, processes and users on macOS and Windows, from systeminformation. */
import os from 'node:os'
import { si } from './si.js'
import type { Collect } from './probe.js'
import { systemSample } from './system.js'

/** `loadAverage`: macOS has one, Windows does not. */
export function siSystem (loadAverage: boolean): Collect {
  return async () => {
    const uptime = os.uptime()
    const at = Date.now()
    const [list, procs] = await Promise.all([(await si()).users(), (await si()).processes()])
    return systemSample(uptime, at, { processCount: procs.all, users: [...new Set(list.map(u => u.user))] }, loadAverage)
  }
}
