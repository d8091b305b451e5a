/** The probes an agent runs by default, in report order, with per-probe schedule overrides. */
import type { Probe, ProbeEnv } from './probe.js'
import { hostProbe } from './host.js'
import { cpuProbe } from './cpu.js'
import { memoryProbe } from './memory.js'
import { filesystemsProbe } from './filesystems.js'
import { diskIoProbe } from './disk-io.js'
import { smartProbe } from './smart.js'
import { temperaturesProbe } from './temperatures.js'
import { batteryProbe } from './battery.js'
import { networkProbe } from './network.js'
import { gatewayProbe } from './gateway.js'
import { systemProbe } from './system.js'
import { processesProbe } from './processes.js'
import { inventoryProbe } from './inventory.js'

/** Per-probe override: a cadence in seconds (0 = every collection) or false to turn it off. */
export type ProbeSchedule = Record<string, number | false>

export const PROBE_NAMES = ['host', 'cpu', 'memory', 'filesystems', 'disk_io', 'smart', 'temperatures', 'battery', 'network', 'gateway', 'system', 'processes', 'inventory'] as const

export function defaultProbes (env: ProbeEnv = {}, schedule: ProbeSchedule = {}): Probe[] {
  const all: Probe[] = [
    hostProbe(env), cpuProbe(env), memoryProbe(env), filesystemsProbe(env), diskIoProbe(env), smartProbe(env),
    temperaturesProbe(env), batteryProbe(env), networkProbe(env), gatewayProbe(env), systemProbe(env),
    processesProbe(env), inventoryProbe(env)
  ]
  const out: Probe[] = []
  for (const p of all) {
    const s = schedule[p.name]
    if (s === false) continue
    out.push(s === undefined ? p : { ...p, everySec: s, collect: p.collect.bind(p) })
  }
  return out
}
