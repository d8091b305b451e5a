/**
 * Temperatures (CPU package and cores, disks, other sensors) and fan speeds.
 * One file per OS family reads the sensors (temperatures-linux.ts,
 * temperatures-si.ts); this one turns them into metrics. Explicitly
 * unavailable when nothing is exposed — never a fake 0.
 */
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { round } from './probe.js'

export interface Sensor { label: string, celsius: number }
export interface Fan { label: string, rpm: number }
export interface HwmonChip { name: string, device?: string, temps: Sensor[], fans: Fan[] }

export const CPU_CHIPS = new Set(['coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'soc_thermal', 'x86_pkg_temp', 'cpu-thermal'])
export const DISK_CHIPS = new Set(['nvme', 'drivetemp'])
const valid = (v: number): boolean => Number.isFinite(v) && v > -40 && v < 150 && v !== 0

/** Turns chips into metrics: temp.cpu_c / temp.cpu_max_c / temp.core_c, temp.disk_c{device}, temp.sensor_c, fan.rpm{fan}. */
export function sensorMetrics (chips: readonly HwmonChip[]): Sample {
  const metrics: Measurement[] = []
  const cpu: number[] = []
  let pkg: number | undefined
  for (const c of chips) {
    const isCpu = CPU_CHIPS.has(c.name)
    for (const t of c.temps) {
      if (!valid(t.celsius)) continue
      const v = round(t.celsius, 1)
      if (isCpu) {
        cpu.push(v)
        const core = /^Core (\d+)$/.exec(t.label)
        if (core !== null) metrics.push({ name: 'temp.core_c', unit: 'celsius', value: v, labels: { core: core[1] } })
        // Intel names the package sensor, AMD names its control temperature Tctl (Tdie on older parts).
        else if (pkg === undefined && /^(Package id \d+|Tctl|Tdie|temp1)$/.test(t.label)) pkg = v
      } else if (c.device !== undefined) {
        // An NVMe drive has several sensors; the first ("Composite") is the one vendors rate.
        if (!metrics.some(m => m.name === 'temp.disk_c' && m.labels?.device === c.device)) {
          metrics.push({ name: 'temp.disk_c', unit: 'celsius', value: v, labels: { device: c.device } })
        }
      } else {
        metrics.push({ name: 'temp.sensor_c', unit: 'celsius', value: v, labels: { chip: c.name.slice(0, 64), sensor: t.label.slice(0, 64) } })
      }
    }
    for (const f of c.fans) {
      // A stopped fan reads 0 rpm, which is a real value (and worth seeing).
      if (Number.isFinite(f.rpm) && f.rpm >= 0 && f.rpm < 50_000) metrics.push({ name: 'fan.rpm', unit: 'rpm', value: f.rpm, labels: { fan: `${c.name}/${f.label}`.slice(0, 128) } })
    }
  }
  if (cpu.length > 0) {
    metrics.unshift(
      { name: 'temp.cpu_c', unit: 'celsius', value: pkg ?? Math.max(...cpu) },
      { name: 'temp.cpu_max_c', unit: 'celsius', value: Math.max(...cpu) }
    )
  }
  const unavailable: NotMeasured[] = []
  if (metrics.length === 0) unavailable.push({ probe: 'temperatures', reason: 'no temperature sensors exposed by this machine (typical of virtual machines)' })
  else if (!metrics.some(m => m.name === 'fan.rpm')) unavailable.push({ probe: 'fans', reason: 'no fan speed sensors exposed' })
  return { metrics, unavailable }
}
