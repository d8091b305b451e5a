/**
 * /api/v1/incidents… and /api/v1/silences…: viewers read, technicians work
 * incidents and silences. Invalid transitions answer 409 VIGIE_ERR_CONFLICT and
 * change nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import type { Silence } from './rows.js'
import { AcknowledgeBody, AssignBody, IdParams, IncidentDetail, IncidentList, IncidentQuery, NoteBody, ReopenBody, ResolveBody } from './model.js'

const SilenceBody = Type.Object({
  machineId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  keyPattern: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'finding key with * wildcards, e.g. rule:disk_full:*' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'RFC 3339; default now' })),
  until: Type.String({ format: 'date-time', description: 'RFC 3339' }),
  reason: Type.String({ minLength: 1, maxLength: 1000 })
}, { additionalProperties: false })

const SilenceJson = Type.Object({
  id: Type.String(),
  machineId: Type.Optional(Type.String()),
  group: Type.Optional(Type.String()),
  keyPattern: Type.Optional(Type.String()),
  from: Type.String(),
  until: Type.String(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  matched: Type.Integer({ description: 'findings this silence kept from opening an incident' })
})

const SilenceQuery = Type.Object({ expired: Type.Optional(Type.Boolean({ description: 'include expired silences (kept 30 days)' })) }, { additionalProperties: false })

function silenceJson (s: Silence): Static<typeof SilenceJson> {
  return {
    id: s.id,
    ...(s.machineId !== undefined ? { machineId: s.machineId } : {}),
    ...(s.group !== undefined ? { group: s.group } : {}),
    ...(s.keyPattern !== undefined ? { keyPattern: s.keyPattern } : {}),
    from: new Date(s.fromMs).toISOString(),
    until: new Date(s.untilMs).toISOString(),
    reason: s.reason,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdMs).toISOString(),
    matched: s.matched
  }
}

const who = (request: FastifyRequest): string => request.technician?.name ?? 'unknown'

export async function incidentRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const incidents = app.incidents
  const viewer = app.requireRole('viewer')
  const technician = app.requireRole('technician')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
  const tags = ['incidents']

  app.get('/api/v1/incidents', {
    onRequest: viewer,
    schema: { summary: 'List incidents, newest first, with filters and paging', tags, querystring: IncidentQuery, response: { 200: IncidentList, ...errors } }
  }, async (request) => incidents.list(request.query as Static<typeof IncidentQuery>))

  app.get('/api/v1/incidents/:id', {
    onRequest: viewer,
    schema: { summary: 'One incident with its timeline, suggested fixes and grouped children', tags, params: IdParams, response: { 200: IncidentDetail, ...errors } }
  }, async (request) => incidents.detail((request.params as { id: string }).id))

  const action = <B>(path: string, summary: string, body: unknown, run: (id: string, by: string, body: B) => unknown): void => {
    app.post(`/api/v1/incidents/:id/${path}`, {
      onRequest: technician,
      schema: { summary, tags, params: IdParams, body, response: { 200: IncidentDetail, ...errors } }
    }, async (request) => run((request.params as { id: string }).id, who(request), (request.body ?? {}) as B))
  }
  action<Static<typeof AcknowledgeBody>>('acknowledge', 'Acknowledge: you own it (open or regressed incidents)', AcknowledgeBody, (id, by, b) => incidents.acknowledge(id, by, b.note))
  action<Static<typeof AssignBody>>('assign', 'Assign an active incident to someone', AssignBody, (id, by, b) => incidents.assign(id, by, b.assignee))
  action<Static<typeof NoteBody>>('notes', 'Add a note to the timeline', NoteBody, (id, by, b) => incidents.addNote(id, by, b.text))
  action<Static<typeof ResolveBody>>('resolve', 'Resolve with a resolution (starts the follow-up watch); optionally document the fix in the knowledge base', ResolveBody, (id, by, b) => incidents.resolve(id, by, b))
  action<Static<typeof ReopenBody>>('reopen', 'Reopen a resolved, auto-resolved or verified incident', ReopenBody, (id, by, b) => incidents.reopen(id, by, b.reason))

  const stags = ['silences']
  app.post('/api/v1/silences', {
    onRequest: technician,
    schema: { summary: 'Create a silence / maintenance window (by machine, group, finding-key pattern, time range)', tags: stags, body: SilenceBody, response: { 201: SilenceJson, ...errors } }
  }, async (request, reply) => {
    const s = await incidents.createSilence(request.body as Static<typeof SilenceBody>, who(request))
    return reply.code(201).send(silenceJson(s))
  })

  app.get('/api/v1/silences', {
    onRequest: viewer,
    schema: { summary: 'Silences not yet expired (or all with expired=true)', tags: stags, querystring: SilenceQuery, response: { 200: Type.Object({ items: Type.Array(SilenceJson) }), ...errors } }
  }, async (request) => ({ items: (await incidents.listSilences((request.query as Static<typeof SilenceQuery>).expired === true)).map(silenceJson) }))

  app.delete('/api/v1/silences/:id', {
    onRequest: technician,
    schema: { summary: 'Delete a silence', tags: stags, params: IdParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    await incidents.deleteSilence((request.params as { id: string }).id)
    return reply.code(204).send()
  })
}
