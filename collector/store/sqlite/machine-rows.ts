/**
 * A machine's row as the registry holds it: its columns, read from the table or
 * built by ingest, with the latest values kept compact (see latest-values.ts).
 */
import type { HostFacts, MetricValue, Unavailable } from '../../../protocol/index.js'
import { LatestValues } from '../latest-values.js'

export interface MachineRow {
  id: string
  hostname: string
  host: HostFacts
  firstSeenMs: number
  lastSeenMs: number
  lastSampledMs: number
  lastSeq: number
  latest: MetricValue[]
  unavailable: Unavailable[]
  clockSkewMs: number
  droppedReports: number
  inventoryHash: string | null
}

export interface RawMachine {
  id: string, hostname: string, host_json: string, first_seen_ms: number, last_seen_ms: number,
  last_sampled_ms: number, last_seq: number, latest_json: string, unavailable_json: string,
  clock_skew_ms: number, dropped_reports: number, inventory_hash: string | null,
  /** sample time of the checkpointed latest values (machine_latest), -1 if none */
  latest_ms: number
}

/** Every column of a machine with its checkpointed latest values. */
export const MACHINE_SELECT = `SELECT m.id, m.hostname, m.host_json, m.first_seen_ms, m.last_seen_ms, m.last_sampled_ms, m.last_seq,
  m.unavailable_json, m.clock_skew_ms, m.dropped_reports, m.inventory_hash,
  COALESCE(l.latest_json, m.latest_json) AS latest_json, COALESCE(l.latest_ms, -1) AS latest_ms
  FROM machines m LEFT JOIN machine_latest l ON l.machine_id = m.id`

export function toMachine (r: RawMachine, rebuild?: (id: string, atMs: number) => MetricValue[] | undefined): MachineRow {
  const latest = r.latest_ms < r.last_sampled_ms ? rebuild?.(r.id, r.last_sampled_ms) : undefined
  return machineRow({
    id: r.id,
    hostname: r.hostname,
    host: JSON.parse(r.host_json) as HostFacts,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
    lastSampledMs: r.last_sampled_ms,
    lastSeq: r.last_seq,
    unavailable: JSON.parse(r.unavailable_json) as Unavailable[],
    clockSkewMs: r.clock_skew_ms,
    droppedReports: r.dropped_reports,
    inventoryHash: r.inventory_hash
  }, LatestValues.of(latest ?? JSON.parse(r.latest_json) as MetricValue[]))
}

export type MachineFields = Omit<MachineRow, 'latest'>

const compactLatest = new WeakMap<MachineRow, LatestValues>()

/**
 * A machine row whose `latest` is built from compact values when read (see
 * latest-values.ts: the cache must not keep each report's metric objects alive).
 */
export function machineRow (f: MachineFields, latest: LatestValues): MachineRow {
  const m: MachineRow = {
    id: f.id,
    hostname: f.hostname,
    host: f.host,
    firstSeenMs: f.firstSeenMs,
    lastSeenMs: f.lastSeenMs,
    lastSampledMs: f.lastSampledMs,
    lastSeq: f.lastSeq,
    get latest () { return latest.toArray() },
    unavailable: f.unavailable,
    clockSkewMs: f.clockSkewMs,
    droppedReports: f.droppedReports,
    inventoryHash: f.inventoryHash
  }
  compactLatest.set(m, latest)
  return m
}

/** A row's latest values in their compact form, for readers that need a few of them per report (the fleet list). */
export function latestValuesOf (m: MachineRow): LatestValues {
  return compactLatest.get(m) ?? LatestValues.of(m.latest)
}

/** A copy of a machine row (its compact latest values shared), with some fields changed. */
export function withFields (m: MachineRow, patch: Partial<MachineFields>): MachineRow {
  return machineRow({
    id: m.id,
    hostname: m.hostname,
    host: m.host,
    firstSeenMs: m.firstSeenMs,
    lastSeenMs: m.lastSeenMs,
    lastSampledMs: m.lastSampledMs,
    lastSeq: m.lastSeq,
    unavailable: m.unavailable,
    clockSkewMs: m.clockSkewMs,
    droppedReports: m.droppedReports,
    inventoryHash: m.inventoryHash,
    ...patch
  }, latestValuesOf(m))
}

/** Host facts are flat (strings and numbers): equal when every field is. */
export function sameHost (a: HostFacts, b: HostFacts): boolean {
  if (a === b) return true
  let n = 0
  for (const k in a) {
    if (a[k as keyof HostFacts] !== b[k as keyof HostFacts]) return false
    n++
  }
  for (const _ in b) n--
  return n === 0
}

export function sameUnavailable (a: readonly Unavailable[], b: readonly Unavailable[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i].probe !== b[i].probe || a[i].reason !== b[i].reason) return false
  return true
}

/** What a machine row says besides times and values, as last written. */
export interface SavedFacts { host: HostFacts, unavailable: Unavailable[], dropped: number, inventoryHash: string | null }
