/**
 * The fleet list in memory: one small entry per machine with its key gauges and a
 * search string, loaded once at start and updated from each stored report. The
 * fleet overview filters, sorts and pages over it without touching the database,
 * which keeps `GET /api/v1/machines` fast at 10,000 machines.
 */
import type { HostFacts } from '../../protocol/index.js'
import { latestValuesOf, type MachineRow } from '../store/sqlite/registry.js'
import type { LatestValues } from '../store/latest-values.js'

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

function gauge (latest: LatestValues, name: string, pick: 'first' | 'max' = 'first'): number | undefined {
  const v = latest.pick(name, pick)
  return v === undefined ? undefined : Math.round(v * 10) / 10
}

/** `prev`: the machine's previous entry, whose search string is kept when the host facts are the same object. */
export function fleetEntry (id: string, host: HostFacts, metrics: LatestValues, lastSeenMs: number, lastSampledMs: number, prev?: FleetEntry): FleetEntry {
  const e: FleetEntry = {
    id,
    hostname: host.hostname,
    host,
    lastSeenMs,
    lastSampledMs,
    search: prev !== undefined && prev.host === host
      ? prev.search
      : [host.hostname, host.user, host.model, host.manufacturer, host.os, host.osVersion, host.serial, host.group, id]
          .filter((v): v is string => typeof v === 'string').join('\n').toLowerCase()
  }
  const cpu = gauge(metrics, 'cpu.load_pct')
  if (cpu !== undefined) e.cpuPct = cpu
  const mem = gauge(metrics, 'mem.used_pct')
  if (mem !== undefined) e.memPct = mem
  const disk = gauge(metrics, 'fs.used_pct', 'max')
  if (disk !== undefined) e.diskPct = disk
  const temp = gauge(metrics, 'temp.cpu_c')
  if (temp !== undefined) e.tempC = temp
  const battery = gauge(metrics, 'battery.health_pct')
  if (battery !== undefined) e.batteryHealthPct = battery
  return e
}

export class FleetIndex {
  readonly #entries = new Map<string, FleetEntry>()

  get size (): number { return this.#entries.size }

  load (rows: readonly MachineRow[]): void {
    for (const m of rows) this.#entries.set(m.id, fleetEntry(m.id, m.host, latestValuesOf(m), m.lastSeenMs, m.lastSampledMs))
  }

  /** Takes a machine's state after a committed ingest. */
  upsert (m: MachineRow): void {
    this.#entries.set(m.id, fleetEntry(m.id, m.host, latestValuesOf(m), m.lastSeenMs, m.lastSampledMs, this.#entries.get(m.id)))
  }

  get (id: string): FleetEntry | undefined { return this.#entries.get(id) }

  all (): IterableIterator<FleetEntry> { return this.#entries.values() }

  delete (id: string): void { this.#entries.delete(id) }
}
