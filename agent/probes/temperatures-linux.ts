/**
 * Temperatures and fans on Linux: /sys/class/hwmon (millidegrees, rpm), then
 * /sys/class/thermal as a fallback for the CPU.
 */
import { listDir, readLine, readNumber } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { CPU_CHIPS, DISK_CHIPS, sensorMetrics, type Fan, type HwmonChip, type Sensor } from './temperatures.js'

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

export function linuxTemperatures (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async () => {
    let chips = await readHwmon(root)
    if (!chips.some(c => CPU_CHIPS.has(c.name) && c.temps.length > 0)) {
      const zones = (await readThermalZones(root)).filter(z => CPU_CHIPS.has(z.name))
      chips = [...chips, ...zones]
    }
    return sensorMetrics(chips)
  }
}
