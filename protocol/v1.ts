/**
 * Vigie wire protocol, version 1.
 *
 * One TypeBox definition per message: the same object is the Fastify route
 * schema (validation, serialization, OpenAPI) and, through `Static`, the
 * TypeScript type. Every field is documented in docs/protocol.md.
 *
 * Compatibility rule: within v1, fields are only ever added, and only as
 * optional; receivers ignore fields they do not know (objects are open).
 * A change that removes, renames or retypes a field is v2.
 */
import { Type, type Static } from 'typebox'

export const PROTOCOL_VERSION = 1

/** Hard limits the collector enforces; agents size their batches to them. */
export const LIMITS = {
  /** Reports in one HTTP batch or one WebSocket frame. */
  maxReportsPerBatch: 500,
  /** Metric values in one report. */
  maxMetricsPerReport: 2000,
  /** Entries in `unavailable`. */
  maxUnavailablePerReport: 200,
  /** Length of a metric name. */
  maxMetricNameLength: 128,
  /** Labels per metric value. */
  maxLabelsPerMetric: 8,
  /** Length of a label value. */
  maxLabelValueLength: 256,
  /** Nesting of arrays and objects in one HTTP body or WebSocket frame (a v1 batch needs 6). */
  maxJsonDepth: 32,
  /** A report's seq may exceed the highest seq the collector knows for its agent by at most this much. */
  maxSeqJump: 1_000_000
} as const

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })
const Timestamp = Type.String({ format: 'date-time', maxLength: 40, description: 'RFC 3339 date-time' })
const ShortText = Type.String({ maxLength: 256 })

/** Units a metric value may carry. Adding one is a compatible change. */
export const Unit = Type.Union([
  Type.Literal('percent'),
  Type.Literal('bytes'),
  Type.Literal('bytes_per_second'),
  Type.Literal('count'),
  Type.Literal('count_per_second'),
  Type.Literal('seconds'),
  Type.Literal('celsius'),
  Type.Literal('hertz'),
  Type.Literal('rpm'),
  Type.Literal('milliseconds'),
  Type.Literal('bits_per_second'),
  Type.Literal('dbm'),
  Type.Literal('boolean'),
  Type.Literal('ratio')
], { description: 'unit of the value' })
export type Unit = Static<typeof Unit>

/** One measured value of one series at the report's sample time. */
export const MetricValue = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.maxMetricNameLength, pattern: '^[a-z][a-z0-9_.]*$' }),
  unit: Unit,
  value: Type.Number(),
  labels: Type.Optional(Type.Record(
    Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }),
    Type.String({ maxLength: LIMITS.maxLabelValueLength }),
    // Keys outside the pattern would become part of a series' identity: refuse them.
    { maxProperties: LIMITS.maxLabelsPerMetric, additionalProperties: false }
  ))
})
export type MetricValue = Static<typeof MetricValue>

/** A probe that produced nothing this time, and why (absent hardware, error, timeout). */
export const Unavailable = Type.Object({
  probe: Type.String({ minLength: 1, maxLength: 64 }),
  reason: Type.String({ maxLength: 512 })
})
export type Unavailable = Static<typeof Unavailable>

/** Facts about the machine that change rarely. */
export const HostFacts = Type.Object({
  hostname: Type.String({ minLength: 1, maxLength: 255 }),
  os: ShortText,
  osVersion: ShortText,
  kernel: ShortText,
  arch: Type.String({ maxLength: 32 }),
  manufacturer: Type.Optional(ShortText),
  model: Type.Optional(ShortText),
  serial: Type.Optional(ShortText),
  cpuModel: Type.Optional(ShortText),
  cpuCores: Type.Optional(Type.Integer({ minimum: 0, maximum: 65536 })),
  memTotalBytes: Type.Optional(Type.Number({ minimum: 0 })),
  agentVersion: Type.String({ minLength: 1, maxLength: 64 }),
  bootTime: Type.Optional(Timestamp),
  user: Type.Optional(ShortText),
  /** the group IT put the machine in at install (site, department); rules, silences and filters use it */
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
})
export type HostFacts = Static<typeof HostFacts>

/** One installed application. */
export const InstalledApp = Type.Object({
  name: ShortText,
  version: Type.String({ maxLength: 128 }),
  source: Type.Optional(Type.String({ maxLength: 32, description: 'dpkg, rpm, macos, windows, …' }))
})
export type InstalledApp = Static<typeof InstalledApp>

/**
 * Software inventory. `apps` is sent only when `hash` changed since the last
 * inventory the collector acknowledged; otherwise only the hash.
 */
export const Inventory = Type.Object({
  hash: Type.String({ minLength: 8, maxLength: 128 }),
  apps: Type.Optional(Type.Array(InstalledApp, { maxItems: 20000 })),
  pendingUpdates: Type.Optional(Type.Integer({ minimum: 0 }))
})
export type Inventory = Static<typeof Inventory>

/** What an agent reports after each collection. */
export const Report = Type.Object({
  v: Type.Literal(PROTOCOL_VERSION),
  agentId: Id,
  seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'per-agent, strictly increasing from 1' }),
  sampledAt: Timestamp,
  agentClock: Timestamp,
  host: HostFacts,
  metrics: Type.Array(MetricValue, { maxItems: LIMITS.maxMetricsPerReport }),
  unavailable: Type.Array(Unavailable, { maxItems: LIMITS.maxUnavailablePerReport }),
  inventory: Type.Optional(Inventory),
  /** Reports the agent's spool dropped (over its size or age limit) since it started counting. */
  droppedReports: Type.Optional(Type.Integer({ minimum: 0 }))
})
export type Report = Static<typeof Report>

/** Body of `POST /api/v1/reports`. */
export const ReportBatch = Type.Object({
  reports: Type.Array(Report, { minItems: 1, maxItems: LIMITS.maxReportsPerBatch })
})
export type ReportBatch = Static<typeof ReportBatch>

/** Answer to a batch: each received seq is either newly stored or a duplicate. */
export const BatchAck = Type.Object({
  stored: Type.Array(Type.Integer()),
  duplicates: Type.Array(Type.Integer()),
  serverTime: Timestamp
})
export type BatchAck = Static<typeof BatchAck>

/** What identifies the hardware at enrollment (serial, model, network adapters). */
export const EnrollHardware = Type.Object({
  serial: Type.Optional(ShortText),
  model: Type.Optional(ShortText),
  manufacturer: Type.Optional(ShortText),
  macs: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 32 }))
})
export type EnrollHardware = Static<typeof EnrollHardware>

/** Body of `POST /api/v1/enroll`. */
export const EnrollRequest = Type.Object({
  enrollToken: Type.String({ minLength: 8, maxLength: 256 }),
  hostname: Type.String({ minLength: 1, maxLength: 255 }),
  agentVersion: Type.String({ minLength: 1, maxLength: 64 }),
  /** Stable machine identifier if the OS gives one (e.g. /etc/machine-id), so a re-install keeps its history. */
  machineKey: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /**
   * Hardware facts (optional v1 addition): a machine key already known with other
   * hardware is a cloned image, enrolled as a distinct machine and flagged.
   */
  hardware: Type.Optional(EnrollHardware)
})
export type EnrollRequest = Static<typeof EnrollRequest>

export const EnrollResponse = Type.Object({
  agentId: Id,
  agentToken: Type.String({ description: 'secret; sent as `Authorization: Bearer` from now on' }),
  protocolVersion: Type.Integer(),
  reportIntervalSec: Type.Integer({ minimum: 1 }),
  serverTime: Timestamp,
  /** optional v1 addition: the highest seq the collector stored for this agent id (0: none); the agent numbers on above it */
  lastSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  /** optional v1 addition: 'pending' until an admin approves this machine (its reports are refused with VIGIE_ERR_AGENT_PENDING until then) */
  status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pending')]))
})
export type EnrollResponse = Static<typeof EnrollResponse>

/**
 * Answer of `POST /api/v1/agent/rotate` (optional v1 addition): the agent's new
 * token. The previous one keeps working until `previousTokenValidUntil`.
 */
export const AgentRotateResponse = Type.Object({
  agentId: Type.String(),
  agentToken: Type.String({ description: 'the new secret; Authorization: Bearer from now on' }),
  previousTokenValidUntil: Type.String({ description: 'RFC 3339: the old token keeps working until then' }),
  rotateAfter: Type.Optional(Type.String({ description: 'RFC 3339: rotate again after this time' }))
})
export type AgentRotateResponse = Static<typeof AgentRotateResponse>

/** Response header telling an agent to rotate its token (value `due`). */
export const TOKEN_ROTATE_HEADER = 'vigie-token-rotate'

/** Every HTTP error body. `path` is set for validation errors. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  path: Type.Optional(Type.String())
})
export type ErrorBody = Static<typeof ErrorBody>

/* ---- WebSocket stream (GET /api/v1/agent/stream) ---- */

/** Agent → collector: one or more reports in one frame. */
export const StreamReports = Type.Object({
  type: Type.Literal('reports'),
  reports: Type.Array(Report, { minItems: 1, maxItems: LIMITS.maxReportsPerBatch })
})
export type StreamReports = Static<typeof StreamReports>

/** Collector → agent: acknowledgement of a frame's reports. */
export const StreamAck = Type.Object({
  type: Type.Literal('ack'),
  stored: Type.Array(Type.Integer()),
  duplicates: Type.Array(Type.Integer()),
  serverTime: Timestamp,
  /** the stream's equivalent of the `Vigie-Token-Rotate: due` header: rotate the token now */
  rotate: Type.Optional(Type.Literal('due'))
})
export type StreamAck = Static<typeof StreamAck>

/** Collector → agent: a frame was refused; the connection stays open unless the code says otherwise. */
export const StreamError = Type.Object({
  type: Type.Literal('error'),
  code: Type.String(),
  message: Type.String(),
  path: Type.Optional(Type.String()),
  seqs: Type.Optional(Type.Array(Type.Integer()))
})
export type StreamError = Static<typeof StreamError>

/** Largest WebSocket frame the collector accepts, in bytes. */
export const MAX_STREAM_FRAME_BYTES = 1024 * 1024
/** Largest HTTP body the collector accepts on agent routes, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Close codes the collector uses on the agent stream (4000–4999 are application codes). */
export const STREAM_CLOSE = {
  unauthorized: 4001,
  forbidden: 4003,
  badFrame: 4400,
  tooLarge: 1009,
  revoked: 4010,
  shuttingDown: 1001
} as const
