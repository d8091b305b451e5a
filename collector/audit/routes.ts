/** Admin: GET /api/v1/admin/audit — the audit log, newest first, filtered by actor, action, time. */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { parseTime } from '../core/time-params.js'

const AuditQuery = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 200, description: 'exact: user:<name>, token:<id>, agent:<id>, anonymous, cli' })),
  action: Type.Optional(Type.String({ maxLength: 100, description: 'exact, or a prefix ending in . or * (auth.*)' })),
  from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO time, epoch ms, or a duration back from now (24h)' })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 }))
})

const Entry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.Optional(Type.String()),
  ip: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
})

export async function adminAuditRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  app.get('/api/v1/admin/audit', {
    onRequest: app.requireRole('admin'),
    schema: { summary: 'Audit log of technician actions and security events', tags: ['admin'], querystring: AuditQuery, response: { 200: Type.Object({ items: Type.Array(Entry) }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody } }
  }, async (request) => {
    const q = request.query as Static<typeof AuditQuery>
    const now = app.now()
    const toMs = q.to === undefined ? undefined : parseTime(q.to, now, 'to')
    const fromMs = q.from === undefined ? undefined : parseTime(q.from, toMs ?? now, 'from')
    const rows = await app.auditLog.query({ actor: q.actor, action: q.action, fromMs, toMs, limit: q.limit })
    return { items: rows.map(({ atMs, ...r }) => ({ ...r, at: new Date(atMs).toISOString() })) }
  })
}
