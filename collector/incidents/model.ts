/**
 * The incident as the API, the live socket and webhooks show it, defined once
 * with TypeBox (route schema, OpenAPI and TypeScript type from one object).
 * docs/incidents.md explains each field and the lifecycle.
 */
import { Type, type Static } from 'typebox'

export const INCIDENT_STATES = ['open', 'acknowledged', 'resolved', 'auto-resolved', 'regressed', 'verified'] as const
export type IncidentState = typeof INCIDENT_STATES[number]
/** States in which an incident is being worked: one per (machine, key) at most. */
export const ACTIVE_STATES: readonly IncidentState[] = ['open', 'acknowledged', 'regressed']

export type Severity = 'info' | 'warning' | 'critical'
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 }

/** What changed, on the live socket (`{ type: 'incident', change, incident }`). */
export type IncidentChange = 'opened' | 'updated' | 'resolved' | 'regressed' | 'verified'

const IncidentStateSchema = Type.Union([
  Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved'),
  Type.Literal('auto-resolved'), Type.Literal('regressed'), Type.Literal('verified')
])
const SeveritySchema = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])
export const KindSchema = Type.Union([
  Type.Literal('threshold'), Type.Literal('anomaly'), Type.Literal('forecast'),
  Type.Literal('offline'), Type.Literal('outlier'), Type.Literal('change')
])

export const Suggestion = Type.Object({
  articleId: Type.String(),
  title: Type.String(),
  score: Type.Number({ description: 'relevance: text similarity (bm25) plus structured boosts' }),
  resolvedCount: Type.Integer({ description: 'similar incidents this article resolved (not counting regressions)' })
})
export type Suggestion = Static<typeof Suggestion>

export const TimelineEntry = Type.Object({
  at: Type.String({ description: 'RFC 3339' }),
  type: Type.String({ description: 'opened, repeated, returned, cleared, severity, escalated, flapping, acknowledged, assigned, note, resolved, auto-resolved, reopened, regressed, verified, grouped, documented' }),
  by: Type.Optional(Type.String()),
  text: Type.Optional(Type.String())
})
export type TimelineEntry = Static<typeof TimelineEntry>

export const SuspectedChangeSchema = Type.Object({
  app: Type.String(),
  from: Type.Optional(Type.String()),
  to: Type.String(),
  affected: Type.Integer(),
  updated: Type.Integer()
})

export const RegressedFrom = Type.Object({
  resolvedAt: Type.String(),
  resolvedBy: Type.String(),
  resolution: Type.String(),
  articleId: Type.Optional(Type.String())
}, { description: 'the resolution that did not hold' })

export const Incident = Type.Object({
  id: Type.String(),
  machineId: Type.String({ description: "'*' for fleet-wide parent incidents" }),
  hostname: Type.String(),
  key: Type.String({ description: 'finding key: one active incident per (machine, key)' }),
  kind: KindSchema,
  severity: SeveritySchema,
  state: IncidentStateSchema,
  title: Type.String(),
  series: Type.Optional(Type.String()),
  openedAt: Type.String(),
  updatedAt: Type.String(),
  lastSeenAt: Type.String(),
  count: Type.Integer({ description: 'times the finding opened or repeated' }),
  flapping: Type.Boolean(),
  acknowledgedBy: Type.Optional(Type.String()),
  acknowledgedAt: Type.Optional(Type.String()),
  assignee: Type.Optional(Type.String()),
  resolvedAt: Type.Optional(Type.String()),
  resolvedBy: Type.Optional(Type.String()),
  resolution: Type.Optional(Type.String()),
  verifyUntil: Type.Optional(Type.String({ description: 'end of the follow-up watch after a technician resolution' })),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  impactAt: Type.Optional(Type.String({ description: 'forecasts: predicted time of impact' })),
  suspectedChange: Type.Optional(SuspectedChangeSchema),
  parentId: Type.Optional(Type.String()),
  regressedFrom: Type.Optional(RegressedFrom),
  suggestions: Type.Array(Suggestion)
})
export type Incident = Static<typeof Incident>

export const IncidentDetail = Type.Object({
  ...Incident.properties,
  timeline: Type.Array(TimelineEntry),
  children: Type.Array(Type.String(), { description: 'ids of incidents grouped under this one' })
})
export type IncidentDetail = Static<typeof IncidentDetail>

export const IncidentList = Type.Object({ total: Type.Integer(), items: Type.Array(Incident) })
export type IncidentList = Static<typeof IncidentList>

export const IncidentQuery = Type.Object({
  state: Type.Optional(Type.Union([IncidentStateSchema, Type.Literal('active')], { description: "a state, or 'active' for open, acknowledged and regressed" })),
  machineId: Type.Optional(Type.String({ maxLength: 64 })),
  severity: Type.Optional(SeveritySchema),
  kind: Type.Optional(KindSchema),
  q: Type.Optional(Type.String({ maxLength: 200, description: 'matches title, hostname and key' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 }))
}, { additionalProperties: false })
export type IncidentQuery = Static<typeof IncidentQuery>

const Text = (max: number): ReturnType<typeof Type.String> => Type.String({ minLength: 1, maxLength: max })

export const AcknowledgeBody = Type.Object({ note: Type.Optional(Text(4000)) }, { additionalProperties: false })
export const AssignBody = Type.Object({ assignee: Text(200) }, { additionalProperties: false })
export const NoteBody = Type.Object({ text: Text(10_000) }, { additionalProperties: false })
export const ReopenBody = Type.Object({ reason: Text(4000) }, { additionalProperties: false })

export const DocumentFix = Type.Object({
  articleId: Type.Optional(Type.String({ maxLength: 64, description: 'update this article instead of creating one' })),
  title: Type.Optional(Text(300)),
  symptoms: Type.Optional(Type.String({ maxLength: 10_000 })),
  cause: Type.Optional(Type.String({ maxLength: 10_000 })),
  steps: Type.Optional(Type.Array(Text(4000), { maxItems: 100 })),
  tags: Type.Optional(Type.Array(Text(64), { maxItems: 50 }))
}, { additionalProperties: false, description: '"document this fix": turn the resolution into a knowledge-base article, or update one' })
export type DocumentFix = Static<typeof DocumentFix>

export const ResolveBody = Type.Object({
  resolution: Text(10_000),
  document: Type.Optional(DocumentFix)
}, { additionalProperties: false })
export type ResolveBody = Static<typeof ResolveBody>

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
