/**
 * The fleet list in memory: one small entry per machine with its key gauges and a
 * search string, loaded once at start and updated from each stored report. The
 * fleet overview filters, sorts and pages over it without touching the database,
 * which keeps `GET /api/v1/machines` fast at 10,000 machines.
 */
import type { HostFacts, MetricValue } from '../../protocol/index.js'
import type { MachineRow } from '../store/sqlite/registry.js'

export interface FleetEntry {
  id: string
  hostname: string
  host: HostFacts
  lastSeenMs: number
  lastSampledMs: number
  cpuPct?: number
  memPct?: number
  diskPct?: number
  tempC?: number
  batteryHealthPct?: number
  /** lower-cased hostname, user, model, manufacturer, OS, OS version, serial, id */
  search: string
}

function gauge (metrics: readonly MetricValue[], name: string, pick: 'first' | 'max' = 'first'): number | undefined {
  let out: number | undefined
  for (const v of metrics) {
    if (v.name !== name) continue
    if (pick === 'first') return Math.round(v.value * 10) / 10
    out = out === undefined ? v.value : Math.max(out, v.value)
  }
  return out === undefined ? undefined : Math.round(out * 10) / 10
}

export function fleetEntry (id: string, host: HostFacts, metrics: readonly MetricValue[], lastSeenMs: number, lastSampledMs: number): FleetEntry {
  const e: FleetEntry = {
    id,
    hostname: host.hostname,
    host,
    lastSeenMs,
    lastSampledMs,
    search: [host.hostname, host.user, host.model, host.manufacturer, host.os, host.osVersion, host.serial, host.group, id]
      .filter((v): v is string => typeof v === 'string').join('\n').toLowerCase()
  }
  const g: Array<[keyof FleetEntry, number | undefined]> = [
    ['cpuPct', gauge(metrics, 'cpu.load_pct')],
    ['memPct', gauge(metrics, 'mem.used_pct')],
    ['diskPct', gauge(metrics, 'fs.used_pct', 'max')],
    ['tempC', gauge(metrics, 'temp.cpu_c')],
    ['batteryHealthPct', gauge(metrics, 'battery.health_pct')]
  ]
  for (const [k, v] of g) if (v !== undefined) (e as unknown as Record<string, unknown>)[k] = v
  return e
}

export class FleetIndex {
  readonly #entries = new Map<string, FleetEntry>()

  get size (): number { return this.#entries.size }

  load (rows: readonly MachineRow[]): void {
    for (const m of rows) this.#entries.set(m.id, fleetEntry(m.id, m.host, m.latest, m.lastSeenMs, m.lastSampledMs))
  }

  /** Takes a machine's state after a committed ingest. */
  upsert (m: MachineRow): void {
    this.#entries.set(m.id, fleetEntry(m.id, m.host, m.latest, m.lastSeenMs, m.lastSampledMs))
  }

  get (id: string): FleetEntry | undefined { return this.#entries.get(id) }

  all (): IterableIterator<FleetEntry> { return this.#entries.values() }

  delete (id: string): void { this.#entries.delete(id) }
}
