/** Batteries on macOS and Windows, from systeminformation (ioreg / WMI). */
import { si } from './si.js'
import type { Collect } from './probe.js'
import { batterySample, type BatteryReading } from './battery.js'

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

export function siBattery (): Collect {
  return async () => batterySample(fromSiBattery(await (await si()).battery()))
}
