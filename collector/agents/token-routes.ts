/**
 * POST /api/v1/agent/rotate — an agent exchanges its token for a new one.
 *
 * Protocol addition (v1, optional; see docs/security.md "Agent token rotation"):
 * request: `POST /api/v1/agent/rotate`, `Authorization: Bearer <current token>`,
 * body `{}`; answer {@link AgentRotateResponse}. The agent must persist the new
 * token before using it; until `previousTokenValidUntil` the old one still works,
 * so a lost answer is retried with the old token.
 */
import type { FastifyInstance } from 'fastify'
import { AgentRotateResponse, ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { audit } from '../audit/audit.js'

export { AgentRotateResponse }

export async function agentTokenRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  app.post('/api/v1/agent/rotate', {
    onRequest: app.requireAgent,
    schema: {
      summary: 'Agent token rotation: returns a new token; the old one keeps working for a grace period',
      tags: ['agent'],
      response: { 200: AgentRotateResponse, 401: ErrorBody, 429: ErrorBody }
    }
  }, async (request) => {
    const agentId = request.agent!.id
    const now = app.now()
    const r = await app.agents.rotate(agentId, app.config.agentTokenGraceSec * 1000, now)
    if (r === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'unknown or revoked agent')
    audit(app, { actor: `agent:${agentId}`, action: 'agent.rotate', target: agentId, ip: request.ip })
    const days = app.config.agentTokenRotateDays
    return {
      agentId,
      agentToken: r.token,
      previousTokenValidUntil: new Date(r.previousValidUntilMs).toISOString(),
      ...(days > 0 ? { rotateAfter: new Date(now + days * 86_400_000).toISOString() } : {})
    }
  })
}
