/**
 * Temperatures (CPU package and cores, disks, other sensors) and fan speeds.
 * Linux: /sys/class/hwmon (millidegrees, rpm), then /sys/class/thermal as a
 * fallback. Elsewhere: systeminformation (macOS needs its optional sensor
 * module; Windows needs Administrator for WMI thermal zones). Explicitly
 * unavailable when nothing is exposed — never a fake 0.
 */
import { si } from './si.js'
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { listDir, readLine, readNumber } from './read-file.js'
import { round, type Probe, type ProbeEnv } from './probe.js'

export interface Sensor { label: string, celsius: number }
export interface Fan { label: string, rpm: number }
export interface HwmonChip { name: string, device?: string, temps: Sensor[], fans: Fan[] }

const CPU_CHIPS = new Set(['coretemp', 'k10temp', 'zenpower', 'cpu_thermal', 'soc_thermal', 'x86_pkg_temp', 'cpu-thermal'])
const DISK_CHIPS = new Set(['nvme', 'drivetemp'])
const valid = (v: number): boolean => Number.isFinite(v) && v > -40 && v < 150 && v !== 0

/** Reads every hwmon chip: name, temperatures (°C) and fans (rpm). */
export async function readHwmon (root: string): Promise<HwmonChip[]> {
  const chips: HwmonChip[] = []
  for (const h of await listDir(root, 'sys/class/hwmon')) {
    const dir = `sys/class/hwmon/${h}`
    const name = (await readLine(root, `${dir}/name`)) ?? h
    const files = await listDir(root, dir)
    const temps: Sensor[] = []
    const fans: Fan[] = []
    for (const f of files) {
      const t = /^temp(\d+)_input$/.exec(f)
      if (t !== null) {
        const v = await readNumber(root, `${dir}/${f}`)
        if (v !== undefined) temps.push({ label: (await readLine(root, `${dir}/temp${t[1]}_label`)) ?? `temp${t[1]}`, celsius: v / 1000 })
      }
      const p = /^fan(\d+)_input$/.exec(f)
      if (p !== null) {
        const v = await readNumber(root, `${dir}/${f}`)
        if (v !== undefined) fans.push({ label: (await readLine(root, `${dir}/fan${p[1]}_label`)) ?? `fan${p[1]}`, rpm: v })
      }
    }
    // nvme and drivetemp chips belong to a block device; name the disk so it matches SMART's label.
    let device: string | undefined
    if (DISK_CHIPS.has(name)) {
      const block = (await listDir(root, `${dir}/device/block`))[0] ?? (await listDir(root, `${dir}/device`)).find(d => /^nvme\d+n\d+$/.test(d))
      device = block ?? h
    }
    chips.push({ name, ...(device !== undefined ? { device } : {}), temps, fans })
  }
  return chips
}

/** Thermal zones, the fallback on machines (often ARM, some laptops) without hwmon CPU sensors. */
export async function readThermalZones (root: string): Promise<HwmonChip[]> {
  const out: HwmonChip[] = []
  for (const z of await listDir(root, 'sys/class/thermal')) {
    if (!z.startsWith('thermal_zone')) continue
    const type = await readLine(root, `sys/class/thermal/${z}/type`)
    const v = await readNumber(root, `sys/class/thermal/${z}/temp`)
    if (type !== undefined && v !== undefined) out.push({ name: type, temps: [{ label: z, celsius: v / 1000 }], fans: [] })
  }
  return out
}

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

export function temperaturesProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'temperatures',
    timeoutMs: 5000,
    async collect () {
      if (platform === 'linux') {
        let chips = await readHwmon(root)
        if (!chips.some(c => CPU_CHIPS.has(c.name) && c.temps.length > 0)) {
          const zones = (await readThermalZones(root)).filter(z => CPU_CHIPS.has(z.name))
          chips = [...chips, ...zones]
        }
        return sensorMetrics(chips)
      }
      const t = await (await si()).cpuTemperature()
      const temps: Sensor[] = []
      if (t.main !== null) temps.push({ label: 'Package id 0', celsius: t.main })
      ;(t.cores ?? []).forEach((c, i) => { temps.push({ label: `Core ${i}`, celsius: c }) })
      const chips: HwmonChip[] = [{ name: 'coretemp', temps, fans: [] }]
      return sensorMetrics(chips)
    }
  }
}
