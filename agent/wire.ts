/**
 * The agent's one door to the wire format: the protocol values it needs at
 * run time, and the mapping of a collection (the agent's own sample) to a
 * protocol report. protocol/index.ts builds every TypeBox schema as it loads
 * (~190 kB of library and several MB of heap the agent never uses: the
 * collector validates, the agent does not), so the agent imports only types
 * from it, and these values; test/agent/wire.test.ts checks they equal the
 * protocol's, and that a real agent's reports stay byte for byte the same.
 */
import type { HostFacts, Inventory, MetricValue, Report, Unavailable } from '../protocol/index.js'
import type { Collection } from './collect.js'

export const PROTOCOL_VERSION = 1
export const LIMITS = {
  maxMetricsPerReport: 2000,
  maxUnavailablePerReport: 200
} as const
export const TOKEN_ROTATE_HEADER = 'vigie-token-rotate'
/** The stream's close codes the agent acts on. */
export const STREAM_CLOSE = {
  unauthorized: 4001,
  badFrame: 4400,
  tooLarge: 1009,
  revoked: 4010
} as const

/** What the report says beside the collection: who sends it, which one it is, and the agent's settings. */
export interface ReportHeader {
  agentId: string
  seq: number
  /** the agent's clock when the report was made, epoch ms */
  clockMs: number
  /** reports the spool dropped so far */
  droppedReports: number
  agentVersion: string
  /** the configured name, over the OS host name */
  hostname?: string
  /** the configured machine group */
  group?: string
}

// The agent's samples are structurally the wire's values today; these
// assignments are where the compiler checks it, and where a later protocol
// version would convert them.
const metricsOf = (c: Collection): MetricValue[] => c.metrics.slice(0, LIMITS.maxMetricsPerReport)
const unavailableOf = (c: Collection): Unavailable[] => c.unavailable.slice(0, LIMITS.maxUnavailablePerReport)
const inventoryOf = (inventory: NonNullable<Collection['inventory']>): Inventory => inventory

/** The protocol report for one collection. Key order is part of the wire bytes: keep it. */
export function toReport (c: Collection, h: ReportHeader): Report {
  const host: HostFacts = {
    ...c.host,
    ...(h.hostname !== undefined ? { hostname: h.hostname } : {}),
    ...(h.group !== undefined ? { group: h.group } : {}),
    agentVersion: h.agentVersion
  }
  return {
    v: PROTOCOL_VERSION,
    agentId: h.agentId,
    seq: h.seq,
    sampledAt: new Date(c.atMs).toISOString(),
    agentClock: new Date(h.clockMs).toISOString(),
    host,
    metrics: metricsOf(c),
    unavailable: unavailableOf(c),
    ...(c.inventory !== undefined ? { inventory: inventoryOf(c.inventory) } : {}),
    droppedReports: h.droppedReports
  }
}
