/** Batteries on Linux, from /sys/class/power_supply (µWh/µAh/µW/µA in sysfs). */
import { listDir, readLine, readNumber } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { batterySample, type BatteryReading } from './battery.js'

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

export function linuxBattery (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async () => batterySample(await readLinuxBatteries(root))
}
