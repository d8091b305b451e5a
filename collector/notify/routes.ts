/** /api/v1/webhooks…: admins manage webhook subscriptions and read their deliveries. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'

const EventType = Type.Union([
  Type.Literal('incident.opened'), Type.Literal('incident.updated'), Type.Literal('incident.resolved'),
  Type.Literal('incident.regressed'), Type.Literal('incident.verified')
])

const WebhookBody = Type.Object({
  url: Type.String({ minLength: 8, maxLength: 2000, description: 'http(s) URL receiving POSTs' }),
  secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key; generated (and shown once) when left out' })),
  events: Type.Optional(Type.Array(EventType, { maxItems: 5, description: 'event types to send; default all' })),
  description: Type.Optional(Type.String({ maxLength: 500 }))
}, { additionalProperties: false })

const WebhookJson = Type.Object({
  id: Type.String(),
  url: Type.String({ description: 'credentials (user:pass@) and secret-named query values shown as ***' }),
  events: Type.Array(Type.String()),
  description: Type.String(),
  createdAt: Type.String(),
  createdBy: Type.String()
})

const Created = Type.Object({ ...WebhookJson.properties, secret: Type.String({ description: 'shown only in this answer' }) })

const Delivery = Type.Object({
  id: Type.Integer(),
  eventId: Type.String(),
  type: Type.String(),
  state: Type.String({ description: 'pending, delivered or dead' }),
  attempts: Type.Integer(),
  createdAt: Type.String(),
  nextAttemptAt: Type.Optional(Type.String()),
  lastStatus: Type.Optional(Type.Integer()),
  lastError: Type.Optional(Type.String()),
  doneAt: Type.Optional(Type.String())
})

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
const who = (request: FastifyRequest): string => request.technician?.name ?? 'unknown'

export async function webhookRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const notifier = app.notifier
  const admin = app.requireRole('admin')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }
  const tags = ['webhooks']

  app.get('/api/v1/webhooks', {
    onRequest: admin,
    schema: { summary: 'Webhook subscriptions (secrets are never shown again)', tags, response: { 200: Type.Object({ items: Type.Array(WebhookJson) }), ...errors } }
  }, async () => ({ items: await notifier.list() }))

  app.post('/api/v1/webhooks', {
    onRequest: admin,
    schema: { summary: 'Subscribe a URL to incident events (signed with HMAC-SHA256)', tags, body: WebhookBody, response: { 201: Created, ...errors } }
  }, async (request, reply) => {
    const body = request.body as Static<typeof WebhookBody>
    // every address the host stands for, before anything is stored
    await notifier.checkTarget(body.url)
    return reply.code(201).send(await notifier.create(body, who(request)))
  })

  app.delete('/api/v1/webhooks/:id', {
    onRequest: admin,
    schema: { summary: 'Remove a subscription and its pending deliveries', tags, params: IdParams, response: { 204: Type.Null(), ...errors } }
  }, async (request, reply) => {
    await notifier.delete((request.params as { id: string }).id)
    return reply.code(204).send()
  })

  app.get('/api/v1/webhooks/:id/deliveries', {
    onRequest: admin,
    schema: { summary: 'Recent deliveries of a webhook, newest first', tags, params: IdParams, response: { 200: Type.Object({ items: Type.Array(Delivery) }), ...errors } }
  }, async (request) => ({ items: await notifier.deliveries((request.params as { id: string }).id) }))
}
