/**
 * The machines API's answers, defined once with TypeBox: the route schemas, /docs
 * and the TypeScript types (the dashboard imports these types) come from here.
 */
import { Type, type Static } from 'typebox'
import { HostFacts, MetricValue, Unavailable } from '../../protocol/index.js'

export const Status = Type.Union([
  Type.Literal('healthy'), Type.Literal('warning'), Type.Literal('critical'),
  Type.Literal('offline-expected'), Type.Literal('silent-unexpected'), Type.Literal('offline')
])

export const Worst = Type.Object({ severity: Type.String(), title: Type.String(), incidentId: Type.Optional(Type.String()) })

export const MachineSummary = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  os: Type.String(),
  osVersion: Type.String(),
  model: Type.Optional(Type.String()),
  user: Type.Optional(Type.String()),
  group: Type.Optional(Type.String()),
  status: Status,
  worst: Type.Optional(Worst),
  lastSeenAt: Type.String(),
  lastSampledAt: Type.String(),
  cpuPct: Type.Optional(Type.Number()),
  memPct: Type.Optional(Type.Number()),
  diskPct: Type.Optional(Type.Number({ description: 'fullest filesystem' })),
  tempC: Type.Optional(Type.Number()),
  batteryHealthPct: Type.Optional(Type.Number())
})
export type MachineSummary = Static<typeof MachineSummary>

export const MachineList = Type.Object({
  total: Type.Integer(),
  offset: Type.Integer(),
  items: Type.Array(MachineSummary),
  counts: Type.Record(Type.String(), Type.Integer())
})

export const MachineDetail = Type.Object({
  id: Type.String(),
  hostname: Type.String(),
  status: Status,
  worst: Type.Optional(Worst),
  host: HostFacts,
  online: Type.Boolean(),
  streaming: Type.Boolean({ description: 'the agent holds a WebSocket to this collector' }),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  lastSampledAt: Type.String(),
  lastSeq: Type.Integer(),
  clockSkewMs: Type.Integer(),
  droppedReports: Type.Integer(),
  latest: Type.Array(MetricValue),
  unavailable: Type.Array(Unavailable),
  inventoryHash: Type.Union([Type.String(), Type.Null()])
})
export type MachineDetail = Static<typeof MachineDetail>
export type MachineList = Static<typeof MachineList>
