/**
 * Battery charge and honest health: full-charge vs design capacity, cycle
 * count, charging state, time remaining. Linux: /sys/class/power_supply;
 * macOS and Windows: systeminformation (ioreg / WMI).
 */
import { si } from './si.js'
import type { Measurement, Sample } from '../sample.js'
import { listDir, readLine, readNumber } from './read-file.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

/** One battery, in neutral units: capacities in Wh or Ah (as long as all three agree), rate in W or A. */
export interface BatteryReading {
  name: string
  /** charge, percent */
  percent: number
  /** 'charging' | 'discharging' | 'full' | 'not-charging' | 'unknown' */
  state: string
  acConnected?: boolean
  cycleCount?: number
  designCapacity?: number
  fullCapacity?: number
  nowCapacity?: number
  /** present drain or charge rate, same family of unit as the capacities */
  rate?: number
  /** time to empty as the OS estimates it, seconds */
  timeRemainingSec?: number
}

export function batteryMetrics (b: BatteryReading): Measurement[] {
  const labels = { battery: b.name }
  const charging = b.state === 'charging'
  const metrics: Measurement[] = [
    { name: 'battery.charge_pct', unit: 'percent', value: round(b.percent), labels },
    { name: 'battery.charging', unit: 'boolean', value: charging ? 1 : 0, labels }
  ]
  if (b.acConnected !== undefined) metrics.push({ name: 'battery.ac_connected', unit: 'boolean', value: b.acConnected ? 1 : 0, labels })
  if (b.cycleCount !== undefined && b.cycleCount > 0) metrics.push({ name: 'battery.cycle_count', unit: 'count', value: b.cycleCount, labels })
  if (b.designCapacity !== undefined && b.fullCapacity !== undefined && b.designCapacity > 0 && b.fullCapacity > 0) {
    metrics.push({ name: 'battery.health_pct', unit: 'percent', value: round(100 * b.fullCapacity / b.designCapacity, 1), labels })
  }
  let remaining = b.timeRemainingSec
  if (remaining === undefined && b.state === 'discharging' && b.nowCapacity !== undefined && b.rate !== undefined && b.rate > 0) {
    remaining = 3600 * b.nowCapacity / b.rate
  }
  if (remaining !== undefined && remaining > 0 && b.state === 'discharging') {
    metrics.push({ name: 'battery.time_remaining_s', unit: 'seconds', value: Math.round(remaining), labels })
  }
  if (charging && b.fullCapacity !== undefined && b.nowCapacity !== undefined && b.rate !== undefined && b.rate > 0) {
    metrics.push({ name: 'battery.time_to_full_s', unit: 'seconds', value: Math.round(3600 * Math.max(0, b.fullCapacity - b.nowCapacity) / b.rate), labels })
  }
  return metrics
}

/** Reads every battery under <root>/sys/class/power_supply (µWh/µAh/µW/µA in sysfs). */
export async function readLinuxBatteries (root: string): Promise<BatteryReading[]> {
  const base = 'sys/class/power_supply'
  const names = await listDir(root, base)
  let ac: boolean | undefined
  const out: BatteryReading[] = []
  for (const n of names) {
    const type = await readLine(root, `${base}/${n}/type`)
    if (type === 'Mains') {
      const online = await readNumber(root, `${base}/${n}/online`)
      if (online !== undefined) ac = (ac ?? false) || online === 1
      continue
    }
    // Mice and keyboards report type Battery too, but with scope Device.
    if (type !== 'Battery' || (await readLine(root, `${base}/${n}/scope`)) === 'Device') continue
    if ((await readNumber(root, `${base}/${n}/present`)) === 0) continue
    const num = async (f: string): Promise<number | undefined> => readNumber(root, `${base}/${n}/${f}`)
    // Firmware reports either energy (µWh, with power in µW) or charge (µAh, with current in µA).
    const energy = (await num('energy_full')) !== undefined
    const full = energy ? await num('energy_full') : await num('charge_full')
    const design = energy ? await num('energy_full_design') : await num('charge_full_design')
    const now = energy ? await num('energy_now') : await num('charge_now')
    const rate = energy ? await num('power_now') : await num('current_now')
    const status = (await readLine(root, `${base}/${n}/status`))?.toLowerCase().replace(' ', '-') ?? 'unknown'
    const percent = (await num('capacity')) ?? (full !== undefined && now !== undefined && full > 0 ? 100 * now / full : 0)
    out.push({
      name: n,
      percent,
      state: status,
      cycleCount: await num('cycle_count'),
      designCapacity: design,
      fullCapacity: full,
      nowCapacity: now,
      rate: rate === undefined ? undefined : Math.abs(rate)
    })
  }
  for (const b of out) if (ac !== undefined) b.acConnected = ac
  return out
}

/** systeminformation's battery() shape, for macOS and Windows (capacities in mWh). */
export interface SiBattery { hasBattery: boolean, percent: number, isCharging: boolean, acConnected: boolean, cycleCount: number, designedCapacity: number, maxCapacity: number, currentCapacity?: number, timeRemaining: number | null }

export function fromSiBattery (b: SiBattery): BatteryReading[] {
  if (!b.hasBattery) return []
  return [{
    name: 'BAT0',
    percent: b.percent,
    state: b.isCharging ? 'charging' : b.acConnected ? (b.percent >= 99 ? 'full' : 'not-charging') : 'discharging',
    acConnected: b.acConnected,
    ...(b.cycleCount > 0 ? { cycleCount: b.cycleCount } : {}),
    ...(b.designedCapacity > 0 ? { designCapacity: b.designedCapacity } : {}),
    ...(b.maxCapacity > 0 ? { fullCapacity: b.maxCapacity } : {}),
    ...(b.timeRemaining !== null && b.timeRemaining > 0 ? { timeRemainingSec: b.timeRemaining * 60 } : {})
  }]
}

export function batteryProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'battery',
    timeoutMs: 5000,
    async collect (): Promise<Sample> {
      const list = platform === 'linux' ? await readLinuxBatteries(root) : fromSiBattery(await (await si()).battery())
      if (list.length === 0) return { metrics: [], unavailable: [{ probe: 'battery', reason: 'no battery (desktop, server or virtual machine)' }] }
      return { metrics: list.flatMap(batteryMetrics) }
    }
  }
}
