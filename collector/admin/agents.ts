/**
 * Admin: an agent's identity. Revocation is immediate — the token and any
 * rotation grace token stop working and open streams close with 4010. Rotation
 * asks the agent to exchange its token (POST /api/v1/agent/rotate), optionally by
 * a deadline after which the current token stops working.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../errors.js'
import { requireRole } from '../http/auth.js'
import type { Vigie } from '../vigie.js'
import { actorOf, audit } from '../audit/audit.js'
import type { AuthService } from '../auth/service.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const RotateBody = Type.Object({
  deadlineHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365, description: 'the current token stops working after this unless the agent rotated' }))
}, { additionalProperties: false })

/** Close code telling a streaming agent to reconnect over HTTP, where the rotation header is set. */
export const CLOSE_ROTATION_DUE = 4011

export async function adminAgentRoutes (app: FastifyInstance, opts: { vigie: Vigie, auth: AuthService }): Promise<void> {
  const { vigie, auth } = opts
  const admin = requireRole(vigie.registry, 'admin')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }

  app.post('/api/v1/admin/agents/:id/revoke', {
    onRequest: admin,
    schema: { summary: 'Revoke an agent: refused at once, open streams closed (4010)', tags: ['admin'], params: IdParams, response: { 200: Type.Object({ agentId: Type.String(), revokedAt: Type.String() }), ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = vigie.registry.getAgent(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    const now = vigie.now()
    if (!vigie.registry.revokeAgent(id, now)) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is already revoked`)
    auth.agentTokens.dropAgent(id)
    vigie.streams.closeAgent(id, 4010, 'agent revoked')
    audit(vigie, { actor: actorOf(request), action: 'agent.revoke', target: id, ip: request.ip, detail: { hostname: agent.hostname } })
    return { agentId: id, revokedAt: new Date(now).toISOString() }
  })

  app.post('/api/v1/admin/agents/:id/rotate', {
    onRequest: admin,
    schema: { summary: 'Ask an agent to rotate its token, optionally by a deadline', tags: ['admin'], params: IdParams, body: Type.Optional(RotateBody), response: { 200: Type.Object({ agentId: Type.String(), requestedAt: Type.String(), deadline: Type.Optional(Type.String()) }), ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const body = (request.body ?? {}) as Static<typeof RotateBody>
    const agent = vigie.registry.getAgent(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    const now = vigie.now()
    const deadline = body.deadlineHours === undefined ? null : Math.round(now + body.deadlineHours * 3_600_000)
    if (!auth.agentTokens.requestRotation(id, deadline, now)) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is revoked`)
    // A streaming agent never sees HTTP headers: send it back to HTTP, where it is told to rotate.
    vigie.streams.closeAgent(id, CLOSE_ROTATION_DUE, 'token rotation due')
    audit(vigie, { actor: actorOf(request), action: 'agent.rotate_requested', target: id, ip: request.ip, detail: { hostname: agent.hostname, ...(deadline !== null ? { deadline: new Date(deadline).toISOString() } : {}) } })
    return { agentId: id, requestedAt: new Date(now).toISOString(), ...(deadline !== null ? { deadline: new Date(deadline).toISOString() } : {}) }
  })
}
