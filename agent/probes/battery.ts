/** Battery charge and health (full-charge vs design capacity) when the machine has one. */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe, type ProbeResult } from './probe.js'

export interface BatteryReading {
  hasBattery: boolean
  percent: number
  isCharging: boolean
  acConnected: boolean
  cycleCount: number
  designedCapacity: number
  maxCapacity: number
  timeRemaining: number | null
}

export function batteryResult (b: BatteryReading): ProbeResult {
  if (!b.hasBattery) return { metrics: [], unavailable: [{ probe: 'battery', reason: 'no battery' }] }
  const metrics: MetricValue[] = [
    { name: 'battery.charge_pct', unit: 'percent', value: round(b.percent) },
    { name: 'battery.charging', unit: 'boolean', value: b.isCharging ? 1 : 0 },
    { name: 'battery.ac_connected', unit: 'boolean', value: b.acConnected ? 1 : 0 }
  ]
  if (b.cycleCount > 0) metrics.push({ name: 'battery.cycle_count', unit: 'count', value: b.cycleCount })
  if (b.designedCapacity > 0 && b.maxCapacity > 0) {
    metrics.push({ name: 'battery.health_pct', unit: 'percent', value: round(100 * b.maxCapacity / b.designedCapacity, 1) })
  }
  if (b.timeRemaining !== null && b.timeRemaining > 0 && !b.isCharging) {
    metrics.push({ name: 'battery.time_remaining_s', unit: 'seconds', value: b.timeRemaining * 60 })
  }
  return { metrics }
}

export function batteryProbe (): Probe {
  return {
    name: 'battery',
    timeoutMs: 5000,
    async collect () {
      const b = await si.battery()
      return batteryResult({ ...b, timeRemaining: b.timeRemaining ?? null })
    }
  }
}
