/**
 * Fault injectors. Each scenario fault is placed on machines (deterministically
 * for the seed; a machine carries at most one fault, so the rest of the fleet is a
 * clean control group), turned into a FaultEffect that bends the machine's values,
 * and described as ground truth: when it starts, when it would hurt the user
 * (impact), and which findings a detector should raise.
 */
import { APPS } from './catalog.js'
import { isOnline, machineState, type FaultEffect, type MachineState } from './behaviour.js'
import type { MachineProfile } from './fleet.js'
import { gauss, hashInts, Rng } from './rng.js'
import { parseDuration, parseWhen, type FaultKind, type FaultSpec, type Scenario } from './scenario.js'

const HOUR = 3_600_000
const DAY = 86_400_000

/** A finding a detector should raise for a fault: its kind, and the incident key prefix when known. */
export interface ExpectedFinding {
  kind: 'threshold' | 'anomaly' | 'forecast' | 'offline' | 'outlier' | 'change'
  /** e.g. `forecast:disk_fill:`; matches the incident key's start */
  keyPrefix?: string
  /** fleet-wide finding (machine `*`), e.g. change correlation */
  fleet?: boolean
}

/** One injected fault on one machine, as written to the ground-truth file. */
export interface InjectedFault {
  faultId: string
  kind: FaultKind
  machineIndex: number
  hostname: string
  /** set once the agent has enrolled */
  machineId?: string
  /** when the fault starts, epoch ms */
  startMs: number
  /** when the user would be hurt, epoch ms (disk full, drive failed, battery dead, throttling, RAM exhausted; the start for sudden faults) */
  impactMs: number
  /** true when the fault builds up, so a detector can warn before impact (lead time); false for sudden faults */
  predictable: boolean
  /** when the fault stops, if it does */
  endMs?: number
  /** the series that carries the symptom */
  series: string
  expected: ExpectedFinding[]
  params: Record<string, unknown>
}

export interface PlacedFaults {
  faults: InjectedFault[]
  /** machine index → its effects */
  effects: Map<number, FaultEffect[]>
}

interface Built {
  effect: FaultEffect
  series: string
  expected: ExpectedFinding[]
  params: Record<string, unknown>
  predictable: boolean
  /** the impact condition on the machine's state, for faults that build up */
  hurts?: (s: MachineState, m: MachineProfile) => boolean
  /** fixed impact time (sudden faults) */
  impactMs?: number
}

function since (startMs: number, tMs: number, endMs?: number): number {
  if (tMs < startMs) return -1
  return Math.min(tMs, endMs ?? Infinity) - startMs
}

function build (spec: FaultSpec, m: MachineProfile, startMs: number, endMs: number | undefined, seed: number, idx: number): Built {
  switch (spec.kind) {
    case 'disk_fill': {
      const rate = spec.ratePctPerDay ?? 5
      return {
        effect: { apply: (s, _m, t) => { const d = since(startMs, t, endMs); if (d >= 0) s.fsUsedPct += rate * d / DAY } },
        series: `fs.used_pct{mount=${JSON.stringify(m.mount)}}`,
        expected: [{ kind: 'forecast', keyPrefix: 'forecast:disk_fill:' }, { kind: 'threshold', keyPrefix: 'rule:disk_full:' }],
        params: { ratePctPerDay: rate },
        predictable: true,
        hurts: s => s.fsUsedPct >= 99.9
      }
    }
    case 'smart_degradation': {
      const perDay = spec.sectorsPerDay ?? 8
      const ramp = spec.rampDays ?? 4
      const failAfter = parseDuration(spec.failAfter ?? '10d', 'failAfter')
      const sectors = (d: number): number => Math.floor(perDay * ramp * (2 ** (d / DAY / ramp) - 1) / Math.LN2) + 1
      return {
        effect: {
          apply: (s, _m, t) => {
            const d = since(startMs, t)
            if (d < 0) return
            s.reallocatedSectors = sectors(d)
            s.pendingSectors = Math.floor(s.reallocatedSectors / 6)
            if (d >= failAfter) s.smartHealthy = 0
          }
        },
        series: `smart.reallocated_sectors{device=${JSON.stringify(m.disk)}}`,
        expected: [{ kind: 'threshold', keyPrefix: 'rule:smart_reallocated:' }, { kind: 'threshold', keyPrefix: 'rule:smart_pending:' }, { kind: 'forecast', keyPrefix: 'forecast:sectors_growing:' }, { kind: 'threshold', keyPrefix: 'rule:smart_failing:' }],
        params: { sectorsPerDay: perDay, rampDays: ramp, failAfterMs: failAfter },
        predictable: true,
        impactMs: startMs + failAfter
      }
    }
    case 'battery_fade': {
      const rate = spec.ratePctPerDay ?? 1.5
      return {
        effect: { apply: (s, _m, t) => { const d = since(startMs, t, endMs); if (d >= 0) s.batteryHealthPct = Math.max(5, s.batteryHealthPct - rate * d / DAY) } },
        series: 'battery.health_pct',
        expected: [{ kind: 'forecast', keyPrefix: 'forecast:battery_fade:' }, { kind: 'threshold', keyPrefix: 'rule:battery_worn:' }, { kind: 'outlier', keyPrefix: 'outlier:battery_health' }],
        params: { ratePctPerDay: rate },
        predictable: true,
        hurts: s => s.batteryHealthPct < 40
      }
    }
    case 'thermal_runaway': {
      const rate = spec.degreesPerDay ?? 4
      return {
        effect: { apply: (s, _m, t) => { const d = since(startMs, t, endMs); if (d >= 0) s.tempC += rate * d / DAY } },
        series: 'temp.cpu_c',
        expected: [{ kind: 'threshold', keyPrefix: 'rule:cpu_hot:' }, { kind: 'anomaly', keyPrefix: 'anomaly:temp.cpu_c' }, { kind: 'outlier', keyPrefix: 'outlier:idle_temperature' }],
        params: { degreesPerDay: rate },
        predictable: true,
        // Throttling: the CPU reaches 100 °C under the user's own load.
        hurts: s => s.tempC >= 100
      }
    }
    case 'memory_leak': {
      const perHour = spec.bytesPerHour ?? m.memTotalBytes * 0.02
      const name = spec.process ?? 'leakyd'
      return {
        effect: {
          apply: (s, mm, t) => {
            const d = since(startMs, t, endMs)
            if (d < 0) return
            const leaked = perHour * d / HOUR
            s.memPct += 100 * leaked / mm.memTotalBytes
            const p = s.procs.find(x => x.name === name)
            if (p !== undefined) p.rssBytes += leaked
            else s.procs.push({ name, rssBytes: 150 * 1024 ** 2 + leaked, cpuPct: 0.5 + 0.3 * Math.abs(gauss(mm.h, Math.floor(t / 60_000), 61)) })
          }
        },
        series: `proc.rss_bytes{name=${JSON.stringify(name)}}`,
        expected: [{ kind: 'forecast', keyPrefix: 'forecast:memory_leak:' }, { kind: 'threshold', keyPrefix: 'rule:memory_pressure:' }, { kind: 'anomaly', keyPrefix: 'anomaly:mem.used_pct' }],
        params: { bytesPerHour: perHour, process: name },
        predictable: true,
        hurts: (s, mm) => s.memPct >= 98 || (s.procs.find(x => x.name === name)?.rssBytes ?? 0) >= 0.9 * mm.memTotalBytes
      }
    }
    case 'cpu_hog': {
      const pct = spec.cpuPct ?? 45
      const name = spec.process ?? 'SearchIndexer'
      return {
        effect: {
          apply: (s, mm, t) => {
            if (since(startMs, t, endMs) < 0 || (endMs !== undefined && t >= endMs)) return
            const v = pct * (0.9 + 0.2 * Math.abs(gauss(mm.h, Math.floor(t / 1000), 62)))
            s.cpuPct += v
            s.procs.push({ name, rssBytes: 90 * 1024 ** 2, cpuPct: v })
          }
        },
        series: 'cpu.load_pct',
        expected: [{ kind: 'anomaly', keyPrefix: 'anomaly:cpu.load_pct' }],
        params: { cpuPct: pct, process: name },
        predictable: false,
        impactMs: startMs
      }
    }
    case 'net_errors': {
      const rate = spec.errorsPerSec ?? 6
      return {
        effect: {
          apply: (s, mm, t) => {
            if (since(startMs, t, endMs) < 0 || (endMs !== undefined && t >= endMs)) return
            s.rxErrorsPerSec += rate * (0.6 + 0.8 * Math.abs(gauss(mm.h, Math.floor(t / 1000), 63)))
            s.rxDropsPerSec += rate * 0.3
          }
        },
        series: `net.rx_errors_per_sec{iface=${JSON.stringify(m.iface)}}`,
        expected: [{ kind: 'threshold', keyPrefix: 'rule:nic_errors:' }, { kind: 'anomaly', keyPrefix: 'anomaly:net.rx_errors_per_sec' }],
        params: { errorsPerSec: rate },
        predictable: false,
        impactMs: startMs
      }
    }
    case 'silence': {
      const end = endMs ?? Infinity
      return {
        effect: { silent: t => t >= startMs && t < end },
        series: '',
        expected: [{ kind: 'offline', keyPrefix: 'offline' }],
        params: {},
        predictable: false,
        impactMs: firstOnline(m, startMs, end)
      }
    }
    case 'bad_update': {
      const appName = spec.app as string
      const version = spec.version ?? '99.0.0-bad'
      const pct = spec.cpuPct ?? 25
      const rollout = parseDuration(spec.rollout ?? '12h', 'rollout')
      const installMs = startMs + Math.floor((hashInts(seed, idx, m.index, 0xbad) / 4294967296) * rollout)
      const proc = APPS.find(a => a.name === appName)?.process?.name ?? appName.toLowerCase().replace(/[^a-z0-9]+/g, '')
      return {
        effect: {
          appVersion: (app, t) => app === appName && t >= installMs ? version : undefined,
          apply: (s, mm, t) => {
            if (t < installMs) return
            const v = pct * (0.85 + 0.3 * Math.abs(gauss(mm.h, Math.floor(t / 1000), 64)))
            s.cpuPct += v
            const p = s.procs.find(x => x.name === proc)
            if (p !== undefined) p.cpuPct += v
            else s.procs.push({ name: proc, rssBytes: 120 * 1024 ** 2, cpuPct: v })
          }
        },
        series: 'cpu.load_pct',
        expected: [{ kind: 'anomaly', keyPrefix: 'anomaly:cpu.load_pct' }, { kind: 'change', fleet: true, keyPrefix: `change:${appName}:${version}:` }],
        params: { app: appName, version, cpuPct: pct, installedAtMs: installMs, process: proc },
        predictable: false,
        impactMs: installMs
      }
    }
  }
}

/** First instant at or after `fromMs` (and before `toMs`) when the machine would normally be on; 5-minute steps. */
function firstOnline (m: MachineProfile, fromMs: number, toMs: number): number {
  for (let t = fromMs; t < Math.min(toMs, fromMs + 30 * DAY); t += 300_000) if (isOnline(m, t)) return t
  return fromMs
}

/** Scans forward (5-minute steps, up to 400 days) for the first time the fault hurts. */
function scanImpact (m: MachineProfile, effects: FaultEffect[], fromMs: number, hurts: (s: MachineState, m: MachineProfile) => boolean): number | undefined {
  for (let t = fromMs; t < fromMs + 400 * DAY; t += 300_000) {
    if (hurts(machineState(m, t, effects), m)) return t
  }
  return undefined
}

function eligible (spec: FaultSpec, m: MachineProfile): boolean {
  if (spec.kind === 'battery_fade' && m.hw.kind !== 'laptop') return false
  if (spec.kind === 'bad_update' && !m.apps.some(ai => APPS[ai].name === spec.app)) return false
  // Heavy users already peg the CPU: a hog or a bad update would not stand out there, nor hurt more.
  if ((spec.kind === 'bad_update' || spec.kind === 'cpu_hog') && m.intensity > 0.7) return false
  return (spec.machineKind === undefined || m.hw.kind === spec.machineKind) &&
    (spec.os === undefined || m.os.family === spec.os) &&
    (spec.model === undefined || m.hw.model === spec.model)
}

/**
 * Places every fault of the scenario on the fleet. Deterministic for (seed,
 * scenario, fleet); machines already carrying a fault are not reused.
 */
export function placeFaults (scenario: Scenario, fleet: readonly MachineProfile[], seed: number, simStartMs: number): PlacedFaults {
  const taken = new Set<number>()
  const effects = new Map<number, FaultEffect[]>()
  const faults: InjectedFault[] = []
  scenario.faults.forEach((spec, idx) => {
    const startMs = parseWhen(spec.start, simStartMs, `faults[${idx}].start`)
    const endMs = spec.duration === undefined ? undefined : startMs + parseDuration(spec.duration, `faults[${idx}].duration`)
    let chosen: MachineProfile[]
    if (spec.machines !== undefined) {
      chosen = spec.machines.filter(i => i < fleet.length && !taken.has(i)).map(i => fleet[i])
    } else {
      const pool = new Rng(hashInts(seed, 0xfa17, idx)).shuffle(fleet.filter(m => !taken.has(m.index) && eligible(spec, m)))
      const n = spec.share !== undefined ? Math.round(spec.share * pool.length) : (spec.count ?? 1)
      chosen = pool.slice(0, n)
    }
    for (const m of chosen) {
      taken.add(m.index)
      const b = build(spec, m, startMs, endMs, seed, idx)
      const list = effects.get(m.index) ?? []
      list.push(b.effect)
      effects.set(m.index, list)
      let impactMs = b.impactMs
      if (impactMs === undefined && b.hurts !== undefined) impactMs = scanImpact(m, list, startMs, b.hurts)
      faults.push({
        faultId: `f${idx}-${m.index}`,
        kind: spec.kind,
        machineIndex: m.index,
        hostname: m.hostname,
        startMs,
        impactMs: impactMs ?? startMs + 400 * DAY,
        predictable: b.predictable,
        ...(endMs !== undefined ? { endMs } : {}),
        series: b.series,
        expected: b.expected,
        params: b.params
      })
    }
  })
  return { faults, effects }
}
