/** Admin: technician API tokens (all of them) and enrollment tokens — create (value shown once), list, revoke. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { actorOf, audit } from '../audit/audit.js'
import { ROLE_RANK } from './users.js'
import { ExpiresInDays, RoleSchema, TokenCreated, tokenExpiryView } from './views.js'
import type { EnrollTokenInfo } from '../agents/enroll-tokens.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const TokenBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: RoleSchema,
  userId: Type.Optional(Type.String({ maxLength: 64, description: "owner: the token stops working when the user is disabled or deleted, and never exceeds the user's role" })),
  expiresInDays: ExpiresInDays
}, { additionalProperties: false })
const EnrollBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  expiresInHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 3650, description: 'default: never expires' })),
  maxUses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'default: unlimited' }))
}, { additionalProperties: false })
const EnrollCreated = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'secret, shown once' }),
  name: Type.String(),
  expiresAt: Type.Optional(Type.String()),
  maxUses: Type.Optional(Type.Integer())
})

const iso = (ms: number | null): string | undefined => ms === null ? undefined : new Date(ms).toISOString()

function enrollState (t: EnrollTokenInfo, now: number): 'active' | 'revoked' | 'expired' | 'used-up' {
  if (t.revokedMs !== null) return 'revoked'
  if (t.expiresMs !== null && t.expiresMs <= now) return 'expired'
  if (t.maxUses !== null && t.uses >= t.maxUses) return 'used-up'
  return 'active'
}

export async function adminTokenRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const auth = app.auth
  const admin = app.requireRole('admin')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }
  const rec = (request: FastifyRequest, action: string, target: string, detail?: Record<string, unknown>): void => {
    audit(app, { actor: actorOf(request), action, target, ip: request.ip, ...(detail !== undefined ? { detail } : {}) })
  }

  app.get('/api/v1/admin/tokens', {
    onRequest: admin,
    schema: { summary: 'Every technician API token (never its value)', tags: ['admin'] }
  }, async () => {
    const users = new Map(auth.users.list().map(u => [u.id, u.username]))
    const now = app.now()
    return {
      items: (await app.apiTokens.list()).map(t => {
        const owner = auth.users.tokenOwner(t.id)
        return { id: t.id, name: t.name, role: t.role, createdAt: iso(t.createdMs), ...tokenExpiryView(t.expiresMs, now), ...(t.revokedMs !== null ? { revokedAt: iso(t.revokedMs) } : {}), ...(owner !== undefined ? { userId: owner, username: users.get(owner) ?? '(deleted)' } : {}) }
      })
    }
  })

  app.post('/api/v1/admin/tokens', {
    onRequest: admin,
    schema: { summary: 'Create a technician API token; the value is returned once', tags: ['admin'], body: TokenBody, response: { 201: TokenCreated, ...errors } }
  }, async (request, reply) => {
    const body = request.body as Static<typeof TokenBody>
    if (body.userId !== undefined) {
      const u = auth.users.get(body.userId)
      if (u === undefined) throw new VigieError('VIGIE_ERR_VALIDATION', `no user ${body.userId}`, { path: '/userId' })
      if (ROLE_RANK[body.role] > ROLE_RANK[u.role]) throw new VigieError('VIGIE_ERR_VALIDATION', `${u.username} is ${u.role}: a token cannot have more rights than its owner`, { path: '/role' })
    }
    const now = app.now()
    const expiresMs = now + (body.expiresInDays ?? app.config.apiTokenDays) * 86_400_000
    const created = await app.apiTokens.create(body.role, body.name, now, expiresMs)
    if (body.userId !== undefined) auth.users.setTokenOwner(created.id, body.userId)
    rec(request, 'token.create', created.id, { name: body.name, role: body.role, expiresAt: iso(expiresMs), ...(body.userId !== undefined ? { userId: body.userId } : {}) })
    return reply.code(201).send({ id: created.id, token: created.token, name: body.name, role: body.role, expiresAt: iso(expiresMs), ...(body.userId !== undefined ? { userId: body.userId } : {}) })
  })

  app.delete('/api/v1/admin/tokens/:id', {
    onRequest: admin,
    schema: { summary: 'Revoke a technician API token (effective at once)', tags: ['admin'], params: IdParams }
  }, async (request, reply) => {
    const id = (request.params as { id: string }).id
    const t = await app.apiTokens.get(id)
    if (t === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no token ${id}`)
    if (!await app.apiTokens.revoke(id, app.now())) throw new VigieError('VIGIE_ERR_CONFLICT', `token ${id} is already revoked`)
    rec(request, 'token.revoke', id, { name: t.name, role: t.role })
    return reply.code(204).send()
  })

  /* ---- enrollment tokens ---- */

  app.get('/api/v1/admin/enroll-tokens', {
    onRequest: admin,
    schema: { summary: 'Enrollment tokens with their expiry, use count and state (never their value)', tags: ['admin'] }
  }, async () => {
    const now = app.now()
    return {
      items: (await app.enrollTokens.list()).map(t => ({
        id: t.id, name: t.name, createdAt: iso(t.createdMs), uses: t.uses, state: enrollState(t, now),
        ...(t.expiresMs !== null ? { expiresAt: iso(t.expiresMs) } : {}),
        ...(t.maxUses !== null ? { maxUses: t.maxUses } : {}),
        ...(t.revokedMs !== null ? { revokedAt: iso(t.revokedMs) } : {})
      }))
    }
  })

  app.post('/api/v1/admin/enroll-tokens', {
    onRequest: admin,
    schema: { summary: 'Create an enrollment token with an expiry and a use limit; the value is returned once', tags: ['admin'], body: EnrollBody, response: { 201: EnrollCreated, ...errors } }
  }, async (request, reply) => {
    const body = request.body as Static<typeof EnrollBody>
    const now = app.now()
    const expiresMs = body.expiresInHours === undefined ? undefined : Math.round(now + body.expiresInHours * 3_600_000)
    const created = await app.enrollTokens.create({ name: body.name, ...(expiresMs !== undefined ? { expiresMs } : {}), ...(body.maxUses !== undefined ? { maxUses: body.maxUses } : {}) }, now)
    rec(request, 'enroll_token.create', created.id, { name: body.name, ...(expiresMs !== undefined ? { expiresAt: iso(expiresMs) } : {}), ...(body.maxUses !== undefined ? { maxUses: body.maxUses } : {}) })
    return reply.code(201).send({ id: created.id, token: created.token, name: body.name, ...(expiresMs !== undefined ? { expiresAt: iso(expiresMs) } : {}), ...(body.maxUses !== undefined ? { maxUses: body.maxUses } : {}) })
  })

  app.delete('/api/v1/admin/enroll-tokens/:id', {
    onRequest: admin,
    schema: { summary: 'Revoke an enrollment token (agents already enrolled keep working)', tags: ['admin'], params: IdParams }
  }, async (request, reply) => {
    const id = (request.params as { id: string }).id
    const t = (await app.enrollTokens.list()).find(e => e.id === id)
    if (t === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no enrollment token ${id}`)
    if (!await app.enrollTokens.revoke(id, app.now())) throw new VigieError('VIGIE_ERR_CONFLICT', `enrollment token ${id} is already revoked`)
    rec(request, 'enroll_token.revoke', id, { name: t.name })
    return reply.code(204).send()
  })
}
