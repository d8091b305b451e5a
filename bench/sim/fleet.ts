/**
 * The fleet model: N machines drawn from the catalogue with the run's seed. Every
 * machine gets a hardware model, an OS build, a user with a daily rhythm, disks,
 * a battery (laptops), installed software and its busiest processes. Same seed and
 * size → the same fleet, machine for machine.
 */
import { APPS, HARDWARE, OS_BUILDS, OS_NAMES, SITES, USERS_FIRST, USERS_LAST, type CatalogApp, type HardwareModel, type OsBuild } from './catalog.js'
import { hashInts, hashString, Rng } from './rng.js'

/** Fleet-wide knobs a scenario may set. */
export interface FleetOptions {
  /** 'office': desktops off at night, laptops asleep outside work; 'always-on': every machine reports all the time (benchmarks) */
  schedule?: 'office' | 'always-on'
  /** share of laptops (default: from the hardware weights, about 0.6) */
  laptopShare?: number
  /** the users' time zone as minutes east of UTC (default 60, Central Europe in winter) */
  tzOffsetMin?: number
  /** prefix of machine keys, so two runs with different prefixes enroll different agents */
  keyPrefix?: string
}

export interface ProcessProfile { name: string, rssBytes: number, cpuPct: number, app?: string }

export interface MachineProfile {
  index: number
  /** per-machine hash input for stateless noise */
  h: number
  hostname: string
  /** stable key sent at enrollment: a re-run of the same seed keeps the same agent ids */
  machineKey: string
  user: string
  site: string
  hw: HardwareModel
  os: OsBuild
  serial: string
  memTotalBytes: number
  diskBytes: number
  mount: string
  disk: string
  iface: string
  /* daily rhythm (local hours) */
  workStartH: number
  workEndH: number
  /** desktops left on every night, or an 'always-on' fleet */
  alwaysOn: boolean
  /** chance a laptop is opened on a weekend day / in the evening */
  weekendUse: number
  eveningUse: number
  tzOffsetMs: number
  /** 0..1, how hard the user works the machine */
  intensity: number
  baseCpuPct: number
  baseMemPct: number
  /* slow trends */
  diskUsedPct0: number
  diskGrowthPctPerDay: number
  tempOffsetC: number
  batteryHealth0: number
  batteryFadePctPerDay: number
  batteryCycles0: number
  ssdWear0: number
  ssdWearPctPerDay: number
  /** installed applications (catalogue indices) */
  apps: number[]
  /** the processes reported under proc.* (busiest first) */
  processes: ProcessProfile[]
  /** OS-level process count baseline */
  processBase: number
}

/** Software release clock origin (1 Jan 2024 UTC): release r of an app is r × releaseEveryDays after it, plus the app's phase. */
export const FLEET_EPOCH_MS = Date.UTC(2024, 0, 1)
const GIB = 1024 ** 3
const MIB = 1024 ** 2

export function createFleet (seed: number, count: number, opts: FleetOptions = {}): MachineProfile[] {
  const out: MachineProfile[] = []
  for (let i = 0; i < count; i++) out.push(createMachine(seed, i, opts))
  return out
}

/** One machine; depends only on (seed, index, options), so a fleet can grow without reshuffling. */
export function createMachine (seed: number, index: number, opts: FleetOptions = {}): MachineProfile {
  const rng = new Rng(hashInts(seed, 0xf1ee7, index))
  const laptops = HARDWARE.filter(h => h.kind === 'laptop')
  const desktops = HARDWARE.filter(h => h.kind === 'desktop')
  let hw: HardwareModel
  if (opts.laptopShare !== undefined) {
    const pool = rng.chance(opts.laptopShare) ? laptops : desktops
    hw = rng.weighted(pool, pool.map(h => h.weight))
  } else {
    hw = rng.weighted(HARDWARE, HARDWARE.map(h => h.weight))
  }
  const builds = OS_BUILDS.filter(b => hw.os.includes(b.family))
  const os = rng.weighted(builds, builds.map(b => b.weight))
  const names = OS_NAMES[os.family]
  const site = rng.pick(SITES)
  const first = rng.pick(USERS_FIRST)
  const last = rng.pick(USERS_LAST)
  const prefix = hw.kind === 'laptop' ? 'LT' : 'DT'
  const hostname = `${prefix}-${site}-${String(index + 1).padStart(5, '0')}`
  const memTotalBytes = rng.pick(hw.memOptionsGiB) * GIB
  const diskBytes = Math.round(rng.pick(hw.diskOptionsGB) * 1e9 * 0.93)
  const intensity = rng.weighted([0.25, 0.5, 0.85], [5, 4, 1]) * rng.range(0.8, 1.2)
  const apps: number[] = []
  APPS.forEach((a, ai) => { if (a.os.includes(os.family) && rng.chance(a.share)) apps.push(ai) })
  const processes: ProcessProfile[] = []
  for (const ai of apps) {
    const p = APPS[ai].process
    if (p !== undefined) processes.push({ name: p.name, rssBytes: p.rssMiB * MIB * rng.range(0.7, 1.3), cpuPct: p.cpuPct * rng.range(0.6, 1.5), app: APPS[ai].name })
  }
  processes.sort((a, b) => b.rssBytes - a.rssBytes)
  processes.splice(4)
  const alwaysOn = opts.schedule === 'always-on' || (hw.kind === 'desktop' && rng.chance(0.15))
  return {
    index,
    h: hashInts(seed, index, 0x5eed),
    hostname,
    machineKey: `${opts.keyPrefix ?? 'sim'}:${seed}:${index}`,
    user: `${first}.${last}`,
    site,
    hw,
    os,
    serial: `${hw.manufacturer.slice(0, 2).toUpperCase()}${(hashInts(seed, index, 77) % 1e8).toString(36).toUpperCase().padStart(6, '0')}`,
    memTotalBytes,
    diskBytes,
    mount: names.mount,
    disk: names.disk,
    iface: hw.kind === 'laptop' ? names.wifi : names.ether,
    workStartH: rng.range(7.3, 9.6),
    workEndH: rng.range(16.5, 19),
    alwaysOn,
    weekendUse: hw.kind === 'laptop' ? rng.range(0.05, 0.35) : 0,
    eveningUse: hw.kind === 'laptop' ? rng.range(0, 0.4) : 0,
    tzOffsetMs: (opts.tzOffsetMin ?? 60) * 60_000,
    intensity,
    baseCpuPct: rng.range(1.5, 6),
    baseMemPct: Math.min(70, 22 + 100 * (rng.range(3.5, 6.5) * GIB) / memTotalBytes),
    diskUsedPct0: rng.range(25, 72),
    diskGrowthPctPerDay: rng.range(0.005, 0.1),
    tempOffsetC: rng.range(-2.5, 2.5),
    batteryHealth0: rng.range(86, 100),
    batteryFadePctPerDay: rng.range(0.004, 0.015),
    batteryCycles0: rng.int(20, 300),
    ssdWear0: rng.range(1, 25),
    ssdWearPctPerDay: rng.range(0.003, 0.015),
    apps,
    processes,
    processBase: os.family === 'windows' ? rng.int(170, 240) : os.family === 'macos' ? rng.int(420, 560) : rng.int(230, 330)
  }
}

/** Per-app phase of its release calendar, in days (stable per app name). */
export function appPhaseDays (app: CatalogApp): number {
  return hashString(app.name) % Math.max(1, app.releaseEveryDays)
}
