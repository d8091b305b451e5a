/**
 * The one list of probes, in report order: each registered once by name with
 * its cadence, timeout, and the file that implements it on each OS (as
 * node_exporter's registerCollector does). Nothing else in the agent chooses a
 * probe by platform, and nothing else lists probe names.
 */
import type { AgentConfig } from '../config.js'
import type { HostSample } from '../sample.js'
import type { Probe, ProbeEnv, ProbeOs, Collect } from './probe.js'
import { linuxHardwareFacts, linuxHost } from './host-linux.js'
import { siHost } from './host-si.js'
import { linuxCpu } from './cpu-linux.js'
import { siCpu } from './cpu-si.js'
import { linuxMemory } from './memory-linux.js'
import { siMemory } from './memory-si.js'
import { linuxFilesystems } from './filesystems-linux.js'
import { siFilesystems } from './filesystems-si.js'
import { linuxDiskIo } from './disk-io-linux.js'
import { darwinDiskIo } from './disk-io-darwin.js'
import { win32DiskIo } from './disk-io-win32.js'
import { smartFromSmartctl } from './smart.js'
import { linuxTemperatures } from './temperatures-linux.js'
import { siTemperatures } from './temperatures-si.js'
import { linuxBattery } from './battery-linux.js'
import { siBattery } from './battery-si.js'
import { linuxNetwork } from './network-linux.js'
import { siNetwork } from './network-si.js'
import { linuxGateway } from './gateway-linux.js'
import { siGateway } from './gateway-si.js'
import { linuxSystem } from './system-linux.js'
import { siSystem } from './system-si.js'
import { linuxProcesses } from './processes-linux.js'
import { siProcesses } from './processes-si.js'
import { linuxInventory } from './inventory-linux.js'
import { darwinInventory } from './inventory-darwin.js'
import { win32Inventory } from './inventory-win32.js'
import { tcpCheckProbe, type TcpTarget } from './tcp-check.js'

/** Per-probe override: a cadence in seconds (0 = every collection) or false to turn it off. */
export type ProbeSchedule = Record<string, number | false>

/** What the configuration says about probes. */
export interface ProbeOptions {
  /** the OS whose implementations run (default: this machine's, see probeOs) */
  os?: ProbeOs
  /** where probes read from (tests) */
  env?: ProbeEnv
  schedule?: ProbeSchedule
  /** explicit TCP reachability checks; none by default */
  checkTcp?: readonly TcpTarget[]
  checkTcpTimeoutMs?: number
}

interface Registration {
  name: string
  timeoutMs: number
  /** default cadence, seconds (0 or absent = every collection) */
  everySec?: number
  /** what needs elevated rights (root / Administrator) for full results */
  elevation?: string
  /** how it collects on each OS */
  on: Record<ProbeOs, (env: ProbeEnv) => Collect>
}

const REGISTRY: readonly Registration[] = [
  { name: 'host', timeoutMs: 15_000, everySec: 3600, elevation: 'root for the serial number on Linux', on: { linux: linuxHost, darwin: siHost, win32: siHost } },
  { name: 'cpu', timeoutMs: 5000, on: { linux: linuxCpu, darwin: () => siCpu('darwin'), win32: () => siCpu('win32') } },
  { name: 'memory', timeoutMs: 3000, on: { linux: linuxMemory, darwin: siMemory, win32: siMemory } },
  { name: 'filesystems', timeoutMs: 10_000, on: { linux: linuxFilesystems, darwin: siFilesystems, win32: siFilesystems } },
  { name: 'disk_io', timeoutMs: 5000, on: { linux: linuxDiskIo, darwin: darwinDiskIo, win32: win32DiskIo } },
  {
    name: 'smart',
    timeoutMs: 60_000,
    everySec: 3600,
    elevation: 'root / Administrator to open disk devices',
    on: { linux: env => smartFromSmartctl(env), darwin: env => smartFromSmartctl(env), win32: env => smartFromSmartctl(env, 'smartctl.exe') }
  },
  { name: 'temperatures', timeoutMs: 5000, on: { linux: linuxTemperatures, darwin: siTemperatures, win32: siTemperatures } },
  { name: 'battery', timeoutMs: 5000, on: { linux: linuxBattery, darwin: siBattery, win32: siBattery } },
  { name: 'network', timeoutMs: 5000, on: { linux: linuxNetwork, darwin: siNetwork, win32: siNetwork } },
  { name: 'gateway', timeoutMs: 5000, everySec: 60, on: { linux: linuxGateway, darwin: () => siGateway('darwin'), win32: () => siGateway('win32') } },
  { name: 'system', timeoutMs: 5000, on: { linux: linuxSystem, darwin: () => siSystem(true), win32: () => siSystem(false) } },
  { name: 'processes', timeoutMs: 10_000, everySec: 60, on: { linux: env => linuxProcesses(env), darwin: () => siProcesses(), win32: () => siProcesses() } },
  { name: 'inventory', timeoutMs: 180_000, everySec: 6 * 3600, on: { linux: linuxInventory, darwin: darwinInventory, win32: win32Inventory } }
]

/** The probes every agent runs unless turned off, in report order. */
export const PROBE_NAMES: readonly string[] = REGISTRY.map(r => r.name)

/** The OS whose probes run here: macOS and Windows by name, Linux (and any other Unix) otherwise. */
export function probeOs (platform: NodeJS.Platform = process.platform): ProbeOs {
  return platform === 'darwin' || platform === 'win32' ? platform : 'linux'
}

/** One probe by name, as it runs on `os`; throws for a name not registered. */
export function probeFor (name: string, os: ProbeOs = probeOs(), env: ProbeEnv = {}): Probe {
  const r = REGISTRY.find(x => x.name === name)
  if (r === undefined) throw new Error(`no probe named '${name}' (probes: ${PROBE_NAMES.join(', ')})`)
  return {
    name: r.name,
    timeoutMs: r.timeoutMs,
    ...(r.everySec !== undefined ? { everySec: r.everySec } : {}),
    ...(r.elevation !== undefined ? { elevation: r.elevation } : {}),
    collect: r.on[os](env)
  }
}

/** The probes an agent runs, in report order: the registered ones not turned off, then the configured checks, with cadence overrides applied. */
export function probesFor (opts: ProbeOptions = {}): Probe[] {
  const os = opts.os ?? probeOs()
  const schedule = opts.schedule ?? {}
  const all = REGISTRY.filter(r => schedule[r.name] !== false).map(r => probeFor(r.name, os, opts.env))
  if ((opts.checkTcp?.length ?? 0) > 0 && schedule.tcp_check !== false) all.push(tcpCheckProbe([...opts.checkTcp!], opts.checkTcpTimeoutMs ?? 2000))
  return all.map(p => {
    const s = schedule[p.name]
    return s === undefined || s === false ? p : { ...p, everySec: s }
  })
}

/** The probes the configuration asks for (what the agent runs, and `doctor` shows). */
export function configuredProbes (config: Pick<AgentConfig, 'probes' | 'checkTcp' | 'checkTcpTimeoutMs'>, env?: ProbeEnv): Probe[] {
  return probesFor({ schedule: config.probes, checkTcp: config.checkTcp, checkTcpTimeoutMs: config.checkTcpTimeoutMs, env })
}

/** What identifies the hardware at enrollment beside its network adapters, where the OS lets the agent read it cheaply (Linux firmware facts). */
export const HARDWARE_FACTS: Partial<Record<ProbeOs, (env?: ProbeEnv) => Promise<Pick<HostSample, 'serial' | 'model' | 'manufacturer'>>>> = {
  linux: linuxHardwareFacts
}
