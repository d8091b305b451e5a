/**
 * Disk health from SMART via `smartctl --json` (smartmontools 7+): overall
 * verdict and the counters that predict failure. Expensive (one process per
 * disk, may touch the hardware), so hourly by default, and `-n standby` never
 * spins up a sleeping disk. Needs root/Administrator to open the devices.
 * One file for every OS: smartctl speaks the same JSON everywhere.
 */
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { listDir } from './read-file.js'
import { runCommand, CommandError } from './run-command.js'
import type { Collect, ProbeEnv } from './probe.js'

interface SmartAttr { id: number, name?: string, value?: number, raw?: { value?: number } }
/** The parts of `smartctl --json -a` output we read. */
export interface SmartJson {
  smartctl?: { exit_status?: number, messages?: Array<{ string: string, severity?: string }> }
  device?: { name?: string, type?: string, protocol?: string }
  model_name?: string
  rotation_rate?: number
  smart_status?: { passed?: boolean }
  ata_smart_attributes?: { table?: SmartAttr[] }
  power_on_time?: { hours?: number }
  temperature?: { current?: number }
  nvme_smart_health_information_log?: { percentage_used?: number, media_errors?: number, temperature?: number, power_on_hours?: number, critical_warning?: number }
}

/** ATA attributes whose normalized value is the remaining life in percent (vendor-specific ids). */
const LIFE_LEFT_ATTRS = [231, 233, 177, 202, 169]

/** Short device label: `/dev/sda` → `sda`, Windows `/dev/pd0` stays `pd0`. */
export function deviceLabel (name: string): string {
  return name.replace(/^\/dev\//, '')
}

/** Why smartctl produced nothing useful, from its messages and exit status; undefined when it did. */
export function smartFailure (j: SmartJson): string | undefined {
  const status = j.smartctl?.exit_status ?? 0
  const all = (j.smartctl?.messages ?? []).map(m => m.string.trim())
  const text = (j.smartctl?.messages ?? []).filter(m => m.severity !== 'information').map(m => m.string.trim()).join('; ')
  if ((status & 0b11) === 0 && j.smart_status !== undefined) return undefined
  if (/permission denied|operation not permitted|access denied/i.test(text)) return `needs root/Administrator: ${text}`
  // `-n standby` makes smartctl exit 2 with an informational message rather than spin the disk up.
  if (all.some(m => /standby|sleep mode/i.test(m))) return 'disk in standby; not woken up to read SMART'
  if (text !== '') return text
  if (j.smart_status === undefined) return 'no SMART data (device does not support SMART, e.g. a virtual disk)'
  return `smartctl exit status ${status}`
}

/** Metrics from one device's `smartctl --json -a` output. */
export function smartMetrics (j: SmartJson, device: string): { metrics: Measurement[], unavailable: NotMeasured[] } {
  const failure = smartFailure(j)
  if (failure !== undefined) return { metrics: [], unavailable: [{ probe: 'smart', reason: `${device}: ${failure}` }] }
  const labels = { device }
  const metrics: Measurement[] = []
  const push = (name: string, unit: Measurement['unit'], value: number | undefined): void => {
    if (typeof value === 'number' && Number.isFinite(value)) metrics.push({ name, unit, value, labels })
  }
  // Bit 3 of the exit status is "SMART status check returned DISK FAILING".
  const failing = ((j.smartctl?.exit_status ?? 0) & 0b1000) !== 0
  push('smart.healthy', 'boolean', j.smart_status?.passed === true && !failing ? 1 : 0)
  const nvme = j.nvme_smart_health_information_log
  const attrs = new Map((j.ata_smart_attributes?.table ?? []).map(a => [a.id, a]))
  if (nvme !== undefined) {
    push('smart.wear_pct', 'percent', nvme.percentage_used)
    push('smart.media_errors', 'count', nvme.media_errors)
  } else {
    push('smart.reallocated_sectors', 'count', attrs.get(5)?.raw?.value)
    push('smart.pending_sectors', 'count', attrs.get(197)?.raw?.value)
    push('smart.offline_uncorrectable', 'count', attrs.get(198)?.raw?.value)
    if (j.rotation_rate === 0 || j.rotation_rate === undefined) {
      const life = LIFE_LEFT_ATTRS.map(id => attrs.get(id)).find(a => typeof a?.value === 'number')
      if (life?.value !== undefined) push('smart.wear_pct', 'percent', Math.max(0, 100 - life.value))
    }
  }
  // Attribute 9's raw value packs minutes into high bytes on some drives; smartctl decodes it for us.
  push('smart.power_on_hours', 'count', j.power_on_time?.hours ?? nvme?.power_on_hours)
  push('smart.temp_c', 'celsius', j.temperature?.current ?? nvme?.temperature)
  return { metrics, unavailable: [] }
}

/** Whole disks the kernel knows, for when `smartctl --scan` finds nothing (to say why per disk). */
async function kernelDisks (root: string): Promise<string[]> {
  return (await listDir(root, 'sys/block')).filter(d => !/^(loop|ram|zram|dm-|sr|fd|md)/.test(d)).map(d => `/dev/${d}`)
}

/** SMART through smartctl (`smartctl.exe` on Windows), the same on every OS that has smartmontools. */
export function smartFromSmartctl (env: ProbeEnv = {}, smartctl = 'smartctl'): Collect {
  const root = env.root ?? '/'
  const run = env.run ?? runCommand
  return async (): Promise<Sample> => {
    let devices: Array<{ name: string, type?: string }>
    try {
      const scan = await run(smartctl, ['--scan', '--json'], { timeoutMs: 10_000, maxBytes: 1024 * 1024 })
      devices = (JSON.parse(scan.stdout) as { devices?: Array<{ name: string, type?: string }> }).devices ?? []
    } catch (err) {
      if (err instanceof CommandError && err.code === 'ENOENT') return { metrics: [], unavailable: [{ probe: 'smart', reason: 'smartctl not installed (install smartmontools 7 or later)' }] }
      throw err
    }
    if (devices.length === 0) devices = (await kernelDisks(root)).map(name => ({ name }))
    if (devices.length === 0) return { metrics: [], unavailable: [{ probe: 'smart', reason: 'no disks found' }] }
    const metrics: Measurement[] = []
    const unavailable: NotMeasured[] = []
    for (const d of devices.slice(0, 16)) {
      const args = ['--json', '-a', '-n', 'standby', ...(d.type !== undefined ? ['-d', d.type] : []), d.name]
      const label = deviceLabel(d.name)
      try {
        const out = await run(smartctl, args, { timeoutMs: 20_000, maxBytes: 4 * 1024 * 1024 })
        const r = smartMetrics(JSON.parse(out.stdout) as SmartJson, label)
        metrics.push(...r.metrics)
        unavailable.push(...r.unavailable)
      } catch (err) {
        unavailable.push({ probe: 'smart', reason: `${label}: ${(err as Error).message}` })
      }
    }
    return { metrics, unavailable }
  }
}
