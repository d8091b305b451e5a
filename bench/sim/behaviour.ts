/**
 * What a simulated machine looks like at a simulated instant: whether it is on,
 * how busy its user is, and every metric the real agent reports (same names, units
 * and labels as agent/probes/*.ts, plus the SMART and per-process series the
 * detectors expect). Pure functions of (machine, time, faults): the same instant
 * always gives the same values, whatever order reports are built in.
 */
import type { HostFacts, InstalledApp, MetricValue, Unavailable } from '../../protocol/index.js'
import { APPS, OS_NAMES } from './catalog.js'
import { appPhaseDays, FLEET_EPOCH_MS, type MachineProfile } from './fleet.js'
import { gauss, hashString, noise } from './rng.js'

const HOUR = 3_600_000
const DAY = 86_400_000
/** Trend clock origin for slow wear (battery, SSD): 1 Jan 2025 UTC. */
const WEAR_EPOCH_MS = Date.UTC(2025, 0, 1)
export const SIM_AGENT_VERSION = '0.1.0-sim'

/** Mutable numbers a sample is built from; faults adjust them before they become metrics. */
export interface MachineState {
  activity: number
  cpuPct: number
  memPct: number
  swapPct: number
  fsUsedPct: number
  tempC: number
  batteryHealthPct: number
  batteryChargePct: number
  batteryCycles: number
  charging: boolean
  smartHealthy: number
  reallocatedSectors: number
  pendingSectors: number
  ssdWearPct: number
  rxBytesPerSec: number
  txBytesPerSec: number
  rxErrorsPerSec: number
  rxDropsPerSec: number
  processCount: number
  /** busiest processes: name → resident bytes and CPU % */
  procs: Array<{ name: string, rssBytes: number, cpuPct: number }>
}

/** What a fault does to a machine: adjust values, keep it silent, or change a version. */
export interface FaultEffect {
  apply?: (s: MachineState, m: MachineProfile, tMs: number) => void
  /** true while the fault keeps the machine from reporting */
  silent?: (tMs: number) => boolean
  /** version of `app` installed at `tMs`, or undefined to leave the catalogue's */
  appVersion?: (app: string, tMs: number) => string | undefined
}

interface LocalTime { day: number, hour: number, weekday: number }

function localTime (m: MachineProfile, tMs: number): LocalTime {
  const local = tMs + m.tzOffsetMs
  const day = Math.floor(local / DAY)
  return { day, hour: (local - day * DAY) / HOUR, weekday: (((day + 4) % 7) + 7) % 7 }
}

/** The working window of a given local day, or undefined on a day off. */
function workWindow (m: MachineProfile, day: number, weekday: number): { start: number, end: number } | undefined {
  if (weekday === 0 || weekday === 6) return undefined
  if (noise(m.h, day, 1) < 0.03) return undefined // day off
  return { start: m.workStartH + (noise(m.h, day, 2) - 0.5) * 0.8, end: m.workEndH + (noise(m.h, day, 3) - 0.5) * 1.2 }
}

/** Whether the machine is on and reporting at `tMs` (before faults). */
export function isOnline (m: MachineProfile, tMs: number): boolean {
  if (m.alwaysOn) return true
  const { day, hour, weekday } = localTime(m, tMs)
  const w = workWindow(m, day, weekday)
  if (m.hw.kind === 'desktop') return w !== undefined && hour >= w.start && hour < w.end
  if (w !== undefined && hour >= w.start && hour < w.end) {
    // A laptop closed over lunch on some days.
    return !(noise(m.h, day, 4) < 0.3 && hour >= 12.25 && hour < 13)
  }
  if (weekday >= 1 && weekday <= 5 && noise(m.h, day, 5) < m.eveningUse && hour >= 20.5 && hour < 22) return true
  if ((weekday === 0 || weekday === 6) && noise(m.h, day, 6) < m.weekendUse) {
    const from = 10 + 5 * noise(m.h, day, 7)
    return hour >= from && hour < from + 2
  }
  return false
}

/** How busy the user keeps the machine, 0..1. */
function activityAt (m: MachineProfile, tMs: number): number {
  const { day, hour, weekday } = localTime(m, tMs)
  const w = workWindow(m, day, weekday)
  let a: number
  if (w !== undefined && hour >= w.start && hour < w.end) {
    a = 0.5 + 0.3 * Math.sin(Math.PI * (hour - w.start) / (w.end - w.start))
    if (hour >= 12 && hour < 13.5) a -= 0.25
  } else if (m.alwaysOn && (w === undefined || hour < w.start || hour >= w.end)) {
    a = m.hw.kind === 'desktop' && weekday >= 1 && weekday <= 5 && hour > 8 && hour < 18 ? 0.45 : 0.04 // left-on desktops idle at night
  } else {
    a = 0.35 // evening or weekend use of a laptop
  }
  a += (noise(m.h, Math.floor(tMs / 900_000), 11) - 0.5) * 0.25 // quarter-hour variation
  if (noise(m.h, Math.floor(tMs / HOUR), 12) < 0.1) a += 0.2 // a video call this hour
  return Math.min(1, Math.max(0, a))
}

/** The healthy state of machine `m` at `tMs`, then each fault's adjustment. */
export function machineState (m: MachineProfile, tMs: number, effects: readonly FaultEffect[] = []): MachineState {
  const sec = Math.floor(tMs / 1000)
  const a = activityAt(m, tMs)
  const { hour } = localTime(m, tMs)
  const cpu = m.baseCpuPct + m.intensity * a * 38 + Math.abs(gauss(m.h, sec, 13)) * 2.5 * (0.5 + a)
  const mem = m.baseMemPct + a * 14 + gauss(m.h, Math.floor(tMs / 300_000), 14) * 1.2
  const wearDays = (tMs - WEAR_EPOCH_MS) / DAY
  // Disks fill slowly and get cleaned up every ~4 months (a sawtooth, bounded).
  const cycleDays = ((tMs - FLEET_EPOCH_MS) / DAY + (m.h % 120)) % 120
  const ambient = 21 + 1.5 * Math.sin(Math.PI * Math.max(0, Math.min(1, (hour - 9) / 10)))
  const s: MachineState = {
    activity: a,
    cpuPct: cpu,
    memPct: mem,
    swapPct: m.os.family === 'windows' ? 6 + 4 * a : 1 + 2 * a,
    fsUsedPct: m.diskUsedPct0 + m.diskGrowthPctPerDay * cycleDays + 0.2 * a,
    tempC: 0, // from the final CPU load below
    batteryHealthPct: Math.max(66, m.batteryHealth0 - m.batteryFadePctPerDay * wearDays),
    batteryChargePct: 45 + 50 * (0.5 + 0.5 * Math.cos(2 * Math.PI * ((tMs / (5 * HOUR)) + (m.h % 997) / 997))),
    batteryCycles: Math.floor(m.batteryCycles0 + Math.max(0, wearDays) * 0.6),
    charging: false,
    smartHealthy: 1,
    reallocatedSectors: 0,
    pendingSectors: 0,
    ssdWearPct: Math.min(60, m.ssdWear0 + m.ssdWearPctPerDay * Math.max(0, wearDays)),
    rxBytesPerSec: a * (30_000 + 400_000 * noise(m.h, Math.floor(tMs / 60_000), 15)),
    txBytesPerSec: a * (8_000 + 60_000 * noise(m.h, Math.floor(tMs / 60_000), 16)),
    rxErrorsPerSec: 0,
    rxDropsPerSec: m.hw.kind === 'laptop' && noise(m.h, sec, 17) < 0.02 ? 0.0333 : 0,
    processCount: m.processBase + Math.round(a * 40 + gauss(m.h, sec, 18) * 3),
    procs: m.processes.map((p, i) => ({
      name: p.name,
      rssBytes: p.rssBytes * (0.75 + 0.4 * a + 0.05 * gauss(m.h, Math.floor(tMs / 300_000), 20 + i)),
      cpuPct: p.cpuPct * (0.2 + 1.5 * a) * (0.8 + 0.4 * noise(m.h, sec, 30 + i))
    }))
  }
  s.charging = s.batteryChargePct < 70 && Math.sin(2 * Math.PI * (tMs / (5 * HOUR) + (m.h % 997) / 997)) > 0
  for (const e of effects) e.apply?.(s, m, tMs)
  s.cpuPct = clamp(s.cpuPct, 0.2, 100)
  s.memPct = clamp(s.memPct, 5, 99.5)
  s.fsUsedPct = clamp(s.fsUsedPct, 1, 100)
  // Temperature follows the final load (so a CPU hog heats the machine too), plus any fault offset already in tempC.
  s.tempC += m.hw.idleTempC + m.tempOffsetC + m.hw.tempPerLoadPct * s.cpuPct + (ambient - 21) + gauss(m.h, sec, 19) * 0.7
  return s
}

const round = (v: number, digits = 2): number => { const f = 10 ** digits; return Math.round(v * f) / f }
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v))

/** The metric list of one report, in the agent's probe order. */
export function metricsOf (m: MachineProfile, s: MachineState, tMs: number): MetricValue[] {
  const sec = Math.floor(tMs / 1000)
  const out: MetricValue[] = [{ name: 'cpu.load_pct', unit: 'percent', value: round(s.cpuPct) }]
  for (let c = 0; c < m.hw.cores; c++) {
    out.push({ name: 'cpu.core_load_pct', unit: 'percent', value: round(clamp(s.cpuPct * (0.5 + noise(m.h, sec, 100 + c)), 0, 100)), labels: { core: String(c) } })
  }
  const memUsed = Math.round(m.memTotalBytes * s.memPct / 100)
  const swapTotal = m.os.family === 'windows' ? 4 * 1024 ** 3 : 2 * 1024 ** 3
  out.push(
    { name: 'mem.total_bytes', unit: 'bytes', value: m.memTotalBytes },
    { name: 'mem.used_bytes', unit: 'bytes', value: memUsed },
    { name: 'mem.available_bytes', unit: 'bytes', value: m.memTotalBytes - memUsed },
    { name: 'mem.used_pct', unit: 'percent', value: round(s.memPct) },
    { name: 'swap.total_bytes', unit: 'bytes', value: swapTotal },
    { name: 'swap.used_bytes', unit: 'bytes', value: Math.round(swapTotal * s.swapPct / 100) },
    { name: 'swap.used_pct', unit: 'percent', value: round(s.swapPct) }
  )
  const mount = { mount: m.mount }
  const fsUsed = Math.round(m.diskBytes * s.fsUsedPct / 100)
  out.push(
    { name: 'fs.size_bytes', unit: 'bytes', value: m.diskBytes, labels: mount },
    { name: 'fs.used_bytes', unit: 'bytes', value: fsUsed, labels: mount },
    { name: 'fs.used_pct', unit: 'percent', value: round(s.fsUsedPct), labels: mount },
    { name: 'temp.cpu_c', unit: 'celsius', value: round(s.tempC, 1) },
    { name: 'temp.cpu_max_c', unit: 'celsius', value: round(s.tempC + 4 + 3 * noise(m.h, sec, 40), 1) }
  )
  if (m.hw.kind === 'laptop') {
    out.push(
      { name: 'battery.charge_pct', unit: 'percent', value: round(s.batteryChargePct) },
      { name: 'battery.charging', unit: 'boolean', value: s.charging ? 1 : 0 },
      { name: 'battery.ac_connected', unit: 'boolean', value: s.charging ? 1 : 0 },
      { name: 'battery.cycle_count', unit: 'count', value: s.batteryCycles },
      { name: 'battery.health_pct', unit: 'percent', value: round(s.batteryHealthPct, 1) }
    )
  }
  const dev = { device: m.disk }
  out.push(
    { name: 'smart.healthy', unit: 'boolean', value: s.smartHealthy },
    { name: 'smart.reallocated_sectors', unit: 'count', value: s.reallocatedSectors, labels: dev },
    { name: 'smart.pending_sectors', unit: 'count', value: s.pendingSectors, labels: dev },
    { name: 'smart.wear_pct', unit: 'percent', value: round(s.ssdWearPct, 1), labels: dev }
  )
  const iface = { iface: m.iface }
  out.push(
    { name: 'net.rx_bytes_per_sec', unit: 'bytes_per_second', value: round(s.rxBytesPerSec), labels: iface },
    { name: 'net.tx_bytes_per_sec', unit: 'bytes_per_second', value: round(s.txBytesPerSec), labels: iface },
    { name: 'net.rx_errors_per_sec', unit: 'count_per_second', value: round(s.rxErrorsPerSec, 4), labels: iface },
    { name: 'net.tx_errors_per_sec', unit: 'count_per_second', value: 0, labels: iface },
    { name: 'net.rx_drops_per_sec', unit: 'count_per_second', value: round(s.rxDropsPerSec, 4), labels: iface },
    { name: 'net.tx_drops_per_sec', unit: 'count_per_second', value: 0, labels: iface }
  )
  out.push(
    { name: 'system.uptime_s', unit: 'seconds', value: Math.round((tMs - bootTimeMs(m, tMs)) / 1000) },
    { name: 'system.process_count', unit: 'count', value: s.processCount }
  )
  if (m.os.family !== 'windows') {
    const l = s.cpuPct / 100 * m.hw.cores * 0.7
    out.push(
      { name: 'load.avg1', unit: 'count', value: round(l) },
      { name: 'load.avg5', unit: 'count', value: round(l * 0.95) },
      { name: 'load.avg15', unit: 'count', value: round(l * 0.9) }
    )
  }
  for (const p of s.procs) {
    out.push(
      { name: 'proc.rss_bytes', unit: 'bytes', value: Math.round(p.rssBytes), labels: { name: p.name } },
      { name: 'proc.cpu_pct', unit: 'percent', value: round(p.cpuPct), labels: { name: p.name } }
    )
  }
  return out
}

/** Probes that have nothing on this machine, as the agent would say. */
export function unavailableOf (m: MachineProfile): Unavailable[] {
  return m.hw.kind === 'desktop' ? [{ probe: 'battery', reason: 'no battery' }] : []
}

/** When the machine last booted: desktops at each morning's power-on, left-on machines on patch Tuesday, laptops on Monday. */
export function bootTimeMs (m: MachineProfile, tMs: number): number {
  const local = tMs + m.tzOffsetMs
  const day = Math.floor(local / DAY)
  const weekday = (((day + 4) % 7) + 7) % 7
  let bootDay: number
  let bootHour: number
  if (m.alwaysOn) {
    bootDay = day - ((weekday - 2 + 7) % 7) // Tuesday 03:00
    bootHour = 3
    if (bootDay === day && (local - day * DAY) / HOUR < 3) bootDay -= 7
  } else if (m.hw.kind === 'desktop') {
    bootDay = day
    bootHour = m.workStartH + (noise(m.h, day, 2) - 0.5) * 0.8
  } else {
    bootDay = day - ((weekday - 1 + 7) % 7) // Monday
    bootHour = Math.min(m.workStartH, 7)
  }
  const boot = bootDay * DAY + bootHour * HOUR - m.tzOffsetMs
  return Math.min(boot, tMs - 60_000)
}

/** Host facts as the agent's host, memory and system probes contribute them. */
export function hostFactsOf (m: MachineProfile, tMs: number): HostFacts {
  return {
    hostname: m.hostname,
    os: m.os.os,
    osVersion: m.os.osVersion,
    kernel: m.os.kernel,
    arch: m.os.arch,
    manufacturer: m.hw.manufacturer,
    model: m.hw.model,
    serial: m.serial,
    cpuModel: m.hw.cpuModel,
    cpuCores: m.hw.cores,
    memTotalBytes: m.memTotalBytes,
    agentVersion: SIM_AGENT_VERSION,
    bootTime: new Date(Math.floor(bootTimeMs(m, tMs) / 1000) * 1000).toISOString(),
    user: m.user
  }
}

/** Installed software at `tMs`: each app at the newest release that has reached this machine. */
export function installedApps (m: MachineProfile, tMs: number, effects: readonly FaultEffect[] = []): InstalledApp[] {
  const source = OS_NAMES[m.os.family].source
  const days = (tMs - FLEET_EPOCH_MS) / DAY
  const out: InstalledApp[] = []
  for (const ai of m.apps) {
    const app = APPS[ai]
    const since = days - appPhaseDays(app)
    let r = Math.floor(since / app.releaseEveryDays)
    // Release r reaches this machine after its own delay; until then it runs r - 1.
    if (r >= 0 && since - r * app.releaseEveryDays < noise(m.h, ai, r, 50) * app.rolloutDays) r--
    let version = app.version(Math.max(0, r))
    for (const e of effects) version = e.appVersion?.(app.name, tMs) ?? version
    out.push({ name: app.name, version, source })
  }
  return out
}

/** The inventory hash the agent would send: stable for the same set of name@version. */
export function inventoryHash (apps: readonly InstalledApp[]): string {
  let joined = ''
  for (const a of apps) joined += a.name + '@' + a.version + ';'
  return 'sim' + hashString(joined).toString(16).padStart(8, '0') + hashString(joined + '#').toString(16).padStart(8, '0')
}
