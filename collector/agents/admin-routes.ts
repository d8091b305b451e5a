/**
 * Admin: an agent's identity. Revocation is immediate — the token and any
 * rotation grace token stop working and open streams close with 4010. Rotation
 * asks the agent to exchange its token (POST /api/v1/agent/rotate), optionally by
 * a deadline after which the current token stops working.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { actorOf, audit } from '../audit/audit.js'
import type { AgentInfo } from './repository.js'

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const RotateBody = Type.Object({
  deadlineHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365, description: 'the current token stops working after this unless the agent rotated' }))
}, { additionalProperties: false })

/** Close code telling a streaming agent to reconnect over HTTP, where the rotation header is set. */
export const CLOSE_ROTATION_DUE = 4011

export async function adminAgentRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const admin = app.requireRole('admin')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }

  app.post('/api/v1/admin/agents/:id/revoke', {
    onRequest: admin,
    schema: { summary: 'Revoke an agent: refused at once, open streams closed (4010)', tags: ['admin'], params: IdParams, response: { 200: Type.Object({ agentId: Type.String(), revokedAt: Type.String() }), ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    const now = app.now()
    if (!await app.agents.revoke(id, now)) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is already revoked`)
    app.streams.closeAgent(id, 4010, 'agent revoked')
    audit(app, { actor: actorOf(request), action: 'agent.revoke', target: id, ip: request.ip, detail: { hostname: agent.hostname } })
    return { agentId: id, revokedAt: new Date(now).toISOString() }
  })

  const AgentView = Type.Object({
    agentId: Type.String(),
    hostname: Type.String(),
    status: Type.String({ description: "'active', 'pending' (awaits approval) or 'rejected'" }),
    enrolledAt: Type.String(),
    revokedAt: Type.Optional(Type.String()),
    hardware: Type.Optional(Type.Object({}, { additionalProperties: true })),
    warning: Type.Optional(Type.String({ description: 'why the machine was flagged at enrollment (machine key already known, cloned image)' })),
    machineKeySharedWith: Type.Optional(Type.Array(Type.String())),
    hardwareDiffers: Type.Optional(Type.Boolean())
  })
  const view = (a: AgentInfo): Static<typeof AgentView> => ({
    agentId: a.id,
    hostname: a.hostname,
    status: a.status,
    enrolledAt: new Date(a.createdMs).toISOString(),
    ...(a.revokedMs !== null ? { revokedAt: new Date(a.revokedMs).toISOString() } : {}),
    ...(a.hardware !== null ? { hardware: a.hardware } : {}),
    ...(a.identity !== null
      ? {
          warning: a.identity.hardwareDiffers
            ? `machine key shared with ${a.identity.machineKeySharedWith.join(', ')} on different hardware: a cloned image; a distinct machine`
            : `machine key of ${a.identity.machineKeySharedWith.join(', ')} enrolled again without its agent token (a reinstall or an impersonation): a new machine`,
          machineKeySharedWith: a.identity.machineKeySharedWith,
          hardwareDiffers: a.identity.hardwareDiffers
        }
      : {})
  })
  const ListQuery = Type.Object({ status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('pending'), Type.Literal('rejected')])) })

  app.get('/api/v1/admin/agents', {
    onRequest: admin,
    schema: { summary: "Agents (machines' identities), newest first; ?status=pending lists the machines awaiting approval", tags: ['admin'], querystring: ListQuery, response: { 200: Type.Object({ items: Type.Array(AgentView) }), ...errors } }
  }, async (request) => {
    const q = request.query as Static<typeof ListQuery>
    return { items: (await app.agents.list(q.status)).map(view) }
  })

  app.get('/api/v1/admin/agents/:id', {
    onRequest: admin,
    schema: { summary: "One agent's identity: status, hardware at enrollment, flags", tags: ['admin'], params: IdParams, response: { 200: AgentView, ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    return view(agent)
  })

  app.post('/api/v1/admin/agents/:id/unrevoke', {
    onRequest: admin,
    schema: { summary: 'Lift a revocation (the only way: enrollment never does); the agent\'s current token works again', tags: ['admin'], params: IdParams, response: { 200: AgentView, ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    if (!await app.agents.unrevoke(id)) throw new VigieError('VIGIE_ERR_CONFLICT', agent.status === 'rejected' ? `agent ${id} was rejected; it cannot be reinstated (enroll it again)` : `agent ${id} is not revoked`)
    audit(app, { actor: actorOf(request), action: 'agent.unrevoke', target: id, ip: request.ip, detail: { hostname: agent.hostname } })
    return view((await app.agents.get(id))!)
  })

  app.post('/api/v1/admin/agents/:id/approve', {
    onRequest: admin,
    schema: { summary: 'Approve a machine pending approval: its reports are accepted from now on', tags: ['admin'], params: IdParams, response: { 200: AgentView, ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    if (!await app.agents.approve(id)) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is not pending approval (${agent.revokedMs !== null ? 'revoked' : agent.status})`)
    audit(app, { actor: actorOf(request), action: 'agent.approve', target: id, ip: request.ip, detail: { hostname: agent.hostname, ...(agent.identity !== null ? { machineKeySharedWith: agent.identity.machineKeySharedWith, hardwareDiffers: agent.identity.hardwareDiffers } : {}) } })
    return view((await app.agents.get(id))!)
  })

  app.post('/api/v1/admin/agents/:id/reject', {
    onRequest: admin,
    schema: { summary: 'Reject a machine pending approval: its token stops working for good', tags: ['admin'], params: IdParams, response: { 200: AgentView, ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    if (!await app.agents.reject(id, app.now())) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is not pending approval`)
    app.streams.closeAgent(id, 4010, 'agent rejected')
    audit(app, { actor: actorOf(request), action: 'agent.reject', target: id, ip: request.ip, detail: { hostname: agent.hostname } })
    return view((await app.agents.get(id))!)
  })

  app.post('/api/v1/admin/agents/:id/rotate', {
    onRequest: admin,
    schema: { summary: 'Ask an agent to rotate its token, optionally by a deadline', tags: ['admin'], params: IdParams, body: Type.Optional(RotateBody), response: { 200: Type.Object({ agentId: Type.String(), requestedAt: Type.String(), deadline: Type.Optional(Type.String()) }), ...errors } }
  }, async (request) => {
    const id = (request.params as { id: string }).id
    const body = (request.body ?? {}) as Static<typeof RotateBody>
    const agent = await app.agents.get(id)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no agent ${id}`)
    const now = app.now()
    const deadline = body.deadlineHours === undefined ? null : Math.round(now + body.deadlineHours * 3_600_000)
    if (!await app.agents.requestRotation(id, deadline, now)) throw new VigieError('VIGIE_ERR_CONFLICT', `agent ${id} is revoked`)
    // A streaming agent never sees HTTP headers: send it back to HTTP, where it is told to rotate.
    app.streams.closeAgent(id, CLOSE_ROTATION_DUE, 'token rotation due')
    audit(app, { actor: actorOf(request), action: 'agent.rotate_requested', target: id, ip: request.ip, detail: { hostname: agent.hostname, ...(deadline !== null ? { deadline: new Date(deadline).toISOString() } : {}) } })
    return { agentId: id, requestedAt: new Date(now).toISOString(), ...(deadline !== null ? { deadline: new Date(deadline).toISOString() } : {}) }
  })
}
