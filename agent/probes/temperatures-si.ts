/**
 * CPU temperatures on macOS and Windows, from systeminformation (macOS needs
 * its optional sensor module; Windows needs Administrator for WMI thermal zones).
 */
import { si } from './si.js'
import type { Collect } from './probe.js'
import { sensorMetrics, type HwmonChip, type Sensor } from './temperatures.js'

export function siTemperatures (): Collect {
  return async () => {
    const t = await (await si()).cpuTemperature()
    const temps: Sensor[] = []
    if (t.main !== null) temps.push({ label: 'Package id 0', celsius: t.main })
    ;(t.cores ?? []).forEach((c, i) => { temps.push({ label: `Core ${i}`, celsius: c }) })
    const chips: HwmonChip[] = [{ name: 'coretemp', temps, fans: [] }]
    return sensorMetrics(chips)
  }
}
