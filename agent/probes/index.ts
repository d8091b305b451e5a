/** The probes an agent runs by default, in report order. */
import type { Probe } from './probe.js'
import { cpuProbe } from './cpu.js'
import { memoryProbe } from './memory.js'
import { filesystemsProbe } from './filesystems.js'
import { temperaturesProbe } from './temperatures.js'
import { batteryProbe } from './battery.js'
import { networkProbe } from './network.js'
import { systemProbe } from './system.js'
import { hostProbe } from './host.js'

export function defaultProbes (): Probe[] {
  return [hostProbe(), cpuProbe(), memoryProbe(), filesystemsProbe(), temperaturesProbe(), batteryProbe(), networkProbe(), systemProbe()]
}
