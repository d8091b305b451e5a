/**
 * Bearer-token authentication for agents (`vga_…`) and technicians (`vgt_…`).
 * Browsers cannot set headers on a WebSocket, so the live route also accepts the
 * technician token as `?token=`; request logs never show query strings.
 * Technicians signed in with a password present a session cookie instead; such
 * requests must also pass the CSRF checks (collector/auth/service.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VigieError } from '../core/errors.js'
import type { AgentPrincipal } from '../agents/repository.js'
import type { AgentDirectory } from '../agents/directory.js'
import type { ApiPrincipal, ApiTokens, Role } from './api-tokens.js'
import type { AuthService } from './service.js'

declare module 'fastify' {
  interface FastifyRequest {
    agent?: AgentPrincipal
    technician?: ApiPrincipal
    /** the signed-in user (session cookie, or an API token owned by a user) */
    user?: { id: string, username: string, role: Role, via: 'session' | 'token' }
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

export function requireAgent (agents: AgentDirectory, now: () => number) {
  // A callback hook, not an async one: it runs on every agent request (ingest's hot
  // path), and a known agent is answered from the directory's cache without a promise.
  return function (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    const token = bearerToken(request)
    if (token === undefined) {
      done(new VigieError('VIGIE_ERR_UNAUTHORIZED', 'missing agent token (Authorization: Bearer …)'))
      return
    }
    const nowMs = now()
    const known = agents.authenticateCached(token, nowMs)
    if (known !== undefined) {
      request.agent = known
      done()
      return
    }
    agents.authenticate(token, nowMs).then(agent => { request.agent = agent; done() }, (err: unknown) => { done(err as Error) })
  }
}

export function requireRole (agents: AgentDirectory, apiTokens: ApiTokens, auth: AuthService, role: Role) {
  return async function (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request)
    if (token === undefined) {
      const session = auth.sessionOf(request)
      if (session === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'missing technician token (Authorization: Bearer …) or session')
      auth.checkCookieRequest(request, session)
      if (RANK[session.role] < RANK[role]) throw new VigieError('VIGIE_ERR_FORBIDDEN', `needs role ${role}; user ${session.username} has ${session.role}`)
      request.technician = { id: session.userId, role: session.role, name: session.username }
      request.user = { id: session.userId, username: session.username, role: session.role, via: 'session' }
      return
    }
    const found = await apiTokens.find(token)
    if (found === undefined) {
      if (await agents.find(token) !== undefined) throw new VigieError('VIGIE_ERR_FORBIDDEN', 'agent tokens cannot read technician routes')
      throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'unknown or revoked technician token')
    }
    if (found.expiresMs !== null && found.expiresMs <= auth.now()) {
      throw new VigieError('VIGIE_ERR_TOKEN_EXPIRED', `API token ${found.id} expired at ${new Date(found.expiresMs).toISOString()}; create a new one`)
    }
    const who = auth.applyTokenOwner({ id: found.id, role: found.role, name: found.name })
    if (who === undefined) throw new VigieError('VIGIE_ERR_UNAUTHORIZED', "the token's user is disabled or deleted")
    if (RANK[who.role] < RANK[role]) throw new VigieError('VIGIE_ERR_FORBIDDEN', `needs role ${role}; token has ${who.role}`)
    request.technician = who
    const ownerId = auth.users.tokenOwner(who.id)
    const owner = ownerId === undefined ? undefined : auth.users.get(ownerId)
    if (owner !== undefined) request.user = { id: owner.id, username: owner.username, role: who.role, via: 'token' }
  }
}

