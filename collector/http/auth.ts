/**
 * Bearer-token authentication for agents (`vga_…`) and technicians (`vgt_…`).
 * Browsers cannot set headers on a WebSocket, so the live route also accepts the
 * technician token as `?token=`; request logs never show query strings.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VigieError } from '../errors.js'
import type { AgentPrincipal, ApiPrincipal, Registry, Role } from '../store/sqlite/registry.js'

declare module 'fastify' {
  interface FastifyRequest {
    agent?: AgentPrincipal
    technician?: ApiPrincipal
  }
}

const RANK: Record<Role, number> = { viewer: 1, technician: 2, admin: 3 }

export function bearerToken (request: FastifyRequest): string | undefined {
  const h = request.headers.authorization
  if (typeof h === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h)
    if (m !== null) return m[1]
  }
  const q = request.query as Record<string, unknown> | undefined
  if (typeof q?.token === 'string' && request.routeOptions.config?.allowQueryToken === true) return q.token
  return undefined
}

declare module 'fastify' {
  interface FastifyContextConfig {
    allowQueryToken?: boolean
  }
}

export function requireAgent (registry: Registry) {
  return async function (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request)
    if (token === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'missing agent token (Authorization: Bearer …)')
    const agent = registry.findAgent(token)
    if (agent === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'unknown or revoked agent token')
    request.agent = agent
  }
}

export function requireRole (registry: Registry, role: Role) {
  return async function (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request)
    if (token === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'missing technician token (Authorization: Bearer …)')
    const who = registry.findApiToken(token)
    if (who === undefined) {
      if (registry.findAgent(token) !== undefined) throw new VigieError('VIGIE_ERR_FORBIDDEN', 'agent tokens cannot read technician routes')
      throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'unknown or revoked technician token')
    }
    if (RANK[who.role] < RANK[role]) throw new VigieError('VIGIE_ERR_FORBIDDEN', `needs role ${role}; token has ${who.role}`)
    request.technician = who
  }
}

declare module 'fastify' {
  interface FastifySchema {
    summary?: string
    description?: string
    tags?: string[]
  }
}
