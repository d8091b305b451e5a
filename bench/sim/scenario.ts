/**
 * Scenario files (JSON): fleet knobs plus the faults to inject. docs/simulator.md
 * documents every field. Loading validates everything up front and names the bad
 * field, so a typo never becomes a silently healthy fleet.
 */
import fs from 'node:fs'
import type { FleetOptions } from './fleet.js'
import type { MachineKind, OsFamily } from './catalog.js'

export type FaultKind =
  | 'disk_fill' | 'smart_degradation' | 'battery_fade' | 'thermal_runaway' | 'memory_leak'
  | 'cpu_hog' | 'net_errors' | 'silence' | 'bad_update'

export const FAULT_KINDS: readonly FaultKind[] = [
  'disk_fill', 'smart_degradation', 'battery_fade', 'thermal_runaway', 'memory_leak',
  'cpu_hog', 'net_errors', 'silence', 'bad_update'
]

/** Which machines a fault may land on. */
export interface FaultTarget {
  /** how many machines (default 1); ignored when `machines` or `share` is set */
  count?: number
  /** explicit machine indices (0-based) */
  machines?: number[]
  /** fraction of the eligible machines */
  share?: number
  /** only laptops or only desktops */
  machineKind?: MachineKind
  os?: OsFamily
  /** hardware model name, e.g. "Latitude 7440" */
  model?: string
}

export interface FaultSpec extends FaultTarget {
  kind: FaultKind
  /** when it starts: offset from the simulation start ("6h", "2d") or an ISO time */
  start: string
  /** optional end (offset from the start of the fault), e.g. a CPU hog that stops; default: never */
  duration?: string
  /* kind-specific parameters (defaults in faults.ts) */
  /** disk_fill: percentage points of the disk per day */
  ratePctPerDay?: number
  /** smart_degradation: reallocated sectors per day at the start (the rate doubles every `rampDays`) */
  sectorsPerDay?: number
  rampDays?: number
  /** smart_degradation: the drive fails its self-assessment (smart.healthy → 0) this long after the start */
  failAfter?: string
  /** thermal_runaway: °C per day */
  degreesPerDay?: number
  /** memory_leak: leaked bytes per hour */
  bytesPerHour?: number
  /** memory_leak / cpu_hog: the process name (default per kind) */
  process?: string
  /** cpu_hog / bad_update: CPU percent added */
  cpuPct?: number
  /** net_errors: receive errors per second */
  errorsPerSec?: number
  /** bad_update: the application and the bad version */
  app?: string
  version?: string
  /** bad_update: the update reaches the machines over this long after the start */
  rollout?: string
}

export interface Scenario {
  name: string
  description?: string
  fleet?: FleetOptions
  faults: FaultSpec[]
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** "90s", "10m", "6h", "2d", "1w", "1h30m" or a bare number of ms → milliseconds. */
export function parseDuration (text: string | number, what = 'duration'): number {
  if (typeof text === 'number') return text
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t)
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy
  let total = 0
  let pos = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(t)) !== null) { total += Number(m[1]) * UNITS[m[2]]; pos = re.lastIndex }
  if (pos !== t.length || t.length === 0) throw new Error(`${what}: ${JSON.stringify(text)} is not a duration such as 30s, 10m, 6h, 2d`)
  return total
}

/** An offset from `baseMs` ("6h", "-1d") or an absolute ISO time → epoch ms. */
export function parseWhen (text: string, baseMs: number, what = 'time'): number {
  const t = text.trim()
  if (/^-?\d+(\.\d+)?(ms|s|m|h|d|w)/.test(t)) {
    return t.startsWith('-') ? baseMs - parseDuration(t.slice(1), what) : baseMs + parseDuration(t, what)
  }
  const abs = Date.parse(t)
  if (Number.isNaN(abs)) throw new Error(`${what}: ${JSON.stringify(text)} is neither an offset such as 6h nor an ISO time`)
  return abs
}

/** Throws naming the field when the scenario is not valid. */
export function validateScenario (raw: unknown, source = 'scenario'): Scenario {
  const fail = (path: string, msg: string): never => { throw new Error(`${source}: ${path}: ${msg}`) }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('/', 'expected an object')
  const s = raw as Record<string, unknown>
  if (typeof s.name !== 'string' || s.name === '') fail('/name', 'expected a non-empty string')
  if (s.fleet !== undefined) {
    const f = s.fleet as Record<string, unknown>
    if (f.schedule !== undefined && f.schedule !== 'office' && f.schedule !== 'always-on') fail('/fleet/schedule', "expected 'office' or 'always-on'")
    if (f.laptopShare !== undefined && !(typeof f.laptopShare === 'number' && f.laptopShare >= 0 && f.laptopShare <= 1)) fail('/fleet/laptopShare', 'expected a number from 0 to 1')
    if (f.tzOffsetMin !== undefined && !(typeof f.tzOffsetMin === 'number' && Math.abs(f.tzOffsetMin) <= 840)) fail('/fleet/tzOffsetMin', 'expected minutes from -840 to 840')
  }
  const faults = s.faults ?? []
  if (!Array.isArray(faults)) fail('/faults', 'expected an array')
  ;(faults as unknown[]).forEach((f, i) => {
    const p = `/faults/${i}`
    if (f === null || typeof f !== 'object') fail(p, 'expected an object')
    const o = f as Record<string, unknown>
    if (!FAULT_KINDS.includes(o.kind as FaultKind)) fail(`${p}/kind`, `expected one of ${FAULT_KINDS.join(', ')}`)
    if (typeof o.start !== 'string') fail(`${p}/start`, 'expected an offset such as "6h" or an ISO time')
    try { parseWhen(o.start as string, 0, `${p}/start`) } catch (e) { fail(`${p}/start`, (e as Error).message) }
    for (const k of ['duration', 'failAfter', 'rollout'] as const) {
      if (o[k] !== undefined) { try { parseDuration(o[k] as string, k) } catch (e) { fail(`${p}/${k}`, (e as Error).message) } }
    }
    for (const k of ['count', 'share', 'ratePctPerDay', 'sectorsPerDay', 'rampDays', 'degreesPerDay', 'bytesPerHour', 'cpuPct', 'errorsPerSec'] as const) {
      if (o[k] !== undefined && !(typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0)) fail(`${p}/${k}`, 'expected a non-negative number')
    }
    if (o.machineKind !== undefined && o.machineKind !== 'laptop' && o.machineKind !== 'desktop') fail(`${p}/machineKind`, "expected 'laptop' or 'desktop'")
    if (o.machines !== undefined && !(Array.isArray(o.machines) && o.machines.every(x => Number.isInteger(x) && x >= 0))) fail(`${p}/machines`, 'expected an array of machine indices')
    if (o.kind === 'bad_update' && typeof o.app !== 'string') fail(`${p}/app`, 'bad_update needs the application name')
  })
  return { name: s.name as string, description: s.description as string | undefined, fleet: s.fleet as FleetOptions | undefined, faults: faults as FaultSpec[] }
}

export function loadScenario (file: string): Scenario {
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err })
  }
  return validateScenario(raw, file)
}
