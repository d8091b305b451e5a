/**
 * Battery charge and honest health: full-charge vs design capacity, cycle
 * count, charging state, time remaining. One file per OS family reads the
 * batteries (battery-linux.ts: /sys/class/power_supply; battery-si.ts: macOS
 * and Windows through systeminformation, ioreg / WMI); this one turns them
 * into a sample.
 */
import type { Measurement, Sample } from '../sample.js'
import { round } from './probe.js'

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

/** The battery probe's sample: metrics per battery, or why there are none. */
export function batterySample (list: readonly BatteryReading[]): Sample {
  if (list.length === 0) return { metrics: [], unavailable: [{ probe: 'battery', reason: 'no battery (desktop, server or virtual machine)' }] }
  return { metrics: list.flatMap(batteryMetrics) }
}
