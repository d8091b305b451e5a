/**
 * The trust area, registered before the areas whose routes it guards: users and
 * sessions, per-user API tokens, agent-token rotation, request limits, the audit
 * log and the admin API. Decorates the route guards every area uses
 * (`app.requireRole('technician')`, `app.requireAgent`).
 */
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { adminRoutes } from './admin-routes.js'
import { actorOf, audit, type AuditLog } from '../audit/audit.js'
import { SqliteAuditLog } from '../audit/sqlite-audit-log.js'
import { installLimits } from './limits.js'
import { agentTokenRoutes } from '../agents/token-routes.js'
import { TOKEN_ROTATE_HEADER } from '../../protocol/index.js'
import { requireAgent, requireRole } from './guards.js'
import { ApiTokens, type Role } from './api-tokens.js'
import { SqliteApiTokenStore } from './sqlite-api-tokens.js'
import { EnrollTokens } from '../agents/enroll-tokens.js'
import { AgentDirectory } from '../agents/directory.js'
import { SqliteAgentStore } from '../agents/sqlite-store.js'
import { SqliteEnrollTokenStore } from '../agents/sqlite-enroll-tokens.js'
import { authRoutes } from './routes.js'
import { AuthService } from './service.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService
    /** agents: enrollment, authentication, status, token lifecycle */
    agents: AgentDirectory
    /** technicians' API tokens */
    apiTokens: ApiTokens
    /** the tokens agents enroll with */
    enrollTokens: EnrollTokens
    /** where audit entries are kept (record them with audit(app, entry)) */
    auditLog: AuditLog
    /** a route guard: a session or API token with at least this role */
    requireRole: (role: Role) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** a route guard: a verified agent token (sets request.agent) */
    requireAgent: (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void
    /** whether this agent should exchange its token now */
    tokenRotationDue: (agentId: string) => boolean
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Routes that record their own, more precise audit entries. */
const SELF_AUDITED = ['/api/v1/auth/', '/api/v1/admin/', '/api/v1/agent/', '/api/v1/enroll', '/api/v1/reports']

export const authPlugin = fp(async (app) => {
  const { db, config, now } = app
  const auditLog = new SqliteAuditLog(db)
  app.decorate('auditLog', auditLog)
  const auth = new AuthService({ db, now })
  const agents = new AgentDirectory(new SqliteAgentStore(db))
  app.decorate('agents', agents)
  app.decorate('auth', auth)
  const apiTokens = new ApiTokens(new SqliteApiTokenStore(db))
  app.decorate('apiTokens', apiTokens)
  app.decorate('enrollTokens', new EnrollTokens(new SqliteEnrollTokenStore(db)))
  app.decorate('requireRole', (role: Role) => requireRole(agents, apiTokens, auth, role))
  app.decorate('requireAgent', requireAgent(agents, now))
  const log = { warn: (o: object, m: string) => { app.log.warn(o, m) } }
  const rec = { auditLog, now, log }

  await installLimits(app)
  app.decorate('tokenRotationDue', (agentId: string) => agents.rotationDue(agentId, config.agentTokenRotateDays * 86_400_000, now()))

  // a callback hook (runs on every response; an async hook costs a promise and a microtask each)
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.agent !== undefined && reply.statusCode < 400 &&
        agents.rotationDue(request.agent.id, config.agentTokenRotateDays * 86_400_000, now())) {
      void reply.header(TOKEN_ROTATE_HEADER, 'due')
    }
    if (request.routeOptions.url === '/api/v1/enroll' && request.method === 'POST') {
      if (reply.statusCode === 200 && typeof payload === 'string') {
        let agentId: string | undefined
        try { agentId = (JSON.parse(payload) as { agentId?: string }).agentId } catch { /* not JSON */ }
        const hostname = (request.body as { hostname?: unknown } | undefined)?.hostname
        if (agentId !== undefined) audit(rec, { actor: `agent:${agentId}`, action: 'agent.enroll', target: agentId, ip: request.ip, detail: { hostname: typeof hostname === 'string' ? hostname.slice(0, 255) : undefined } })
      } else if (reply.statusCode === 401) {
        audit(rec, { actor: 'anonymous', action: 'agent.enroll_failed', ip: request.ip })
      }
    }
    done(null, payload)
  })

  // Every technician action is audited, also in areas that record nothing themselves;
  // refusals of signed-in technicians (role, CSRF) are security events.
  app.addHook('onResponse', (request, reply, done) => {
    try {
      auditResponse(request, reply)
    } catch (err) {
      app.log.warn({ err }, 'audit of a response failed')
    }
    done()
  })
  function auditResponse (request: FastifyRequest, reply: FastifyReply): void {
    if (request.technician === undefined && reply.statusCode !== 403) return
    const url = request.routeOptions.url ?? ''
    if (SELF_AUDITED.some(p => url.startsWith(p)) && reply.statusCode !== 403) return
    const params = request.params as Record<string, unknown> | undefined
    const target = typeof params?.id === 'string' ? params.id : undefined
    if (reply.statusCode === 403 && (request.technician !== undefined || request.headers.cookie !== undefined)) {
      const session = request.technician === undefined ? auth.sessionOf(request) : undefined
      audit(rec, { actor: session !== undefined ? `user:${session.username}` : actorOf(request), action: 'access.denied', ip: request.ip, detail: { method: request.method, route: url }, ...(target !== undefined ? { target } : {}) })
      return
    }
    if (request.technician !== undefined && UNSAFE.has(request.method) && reply.statusCode < 400) {
      audit(rec, { actor: actorOf(request), action: `http.${request.method} ${url}`, ip: request.ip, detail: { statusCode: reply.statusCode }, ...(target !== undefined ? { target } : {}) })
    }
  }

  await app.register(authRoutes)
  await app.register(agentTokenRoutes)
  await app.register(adminRoutes)

  const prune = (): void => {
    try {
      const t = now()
      auth.sessions.prune(t)
      agents.prune(t).catch((err: unknown) => { app.log.warn({ err: (err as Error).message }, 'grace token prune failed') })
      auditLog.prune(t - config.auditRetentionDays * 86_400_000).catch((err: unknown) => { app.log.warn({ err: (err as Error).message }, 'audit prune failed') })
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'trust prune failed')
    }
  }
  const timer = setInterval(prune, 3_600_000)
  timer.unref()
  app.addHook('onClose', async () => { clearInterval(timer) })
}, { name: 'vigie-auth', dependencies: ['vigie-store'], fastify: '5.x' })
