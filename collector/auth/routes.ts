/**
 * Technician sign-in: POST /api/v1/auth/login sets the session cookies and
 * returns the user and the CSRF token; POST /api/v1/auth/logout ends the
 * session; GET /api/v1/auth/me says who is signed in. Users manage their own
 * API tokens under /api/v1/auth/tokens.
 */
import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { audit } from '../audit/audit.js'
import { tooMany } from './limits.js'
import { SIGN_IN_WINDOW_SEC, SignInThrottle } from './sign-in-limit.js'
import { CSRF_COOKIE, SESSION_COOKIE, cookieOptions } from './cookies.js'
import { dummyHash, verifyPassword, PASSWORD_MAX_LENGTH } from './passwords.js'
import { sameOrigin } from './service.js'
import { ROLE_RANK } from './users.js'
import { ExpiresInDays, RoleSchema, TokenCreated, UserView, tokenExpiryView, userView } from './views.js'

const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH })
}, { additionalProperties: false })

const LoginReply = Type.Object({ user: UserView, csrfToken: Type.String() })
const MeReply = Type.Object({
  user: Type.Object({ id: Type.String(), username: Type.String(), role: RoleSchema }),
  via: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  csrfToken: Type.Optional(Type.String({ description: 'present for a session: send it as x-csrf-token on requests that change data' }))
})
const OwnTokenBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: Type.Optional(RoleSchema),
  expiresInDays: ExpiresInDays
}, { additionalProperties: false })
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export async function authRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  // Registered here, in the sign-in routes' own scope: its Set-Cookie writer is an
  // onSend hook, which the ingest path should not run on every report (measured:
  // a few points of the ingest ratio). Cookies are read with its parse where a
  // session is looked up (AuthService.sessionOf), never on every request.
  await app.register(cookie, { hook: false })
  const auth = app.auth
  const { config } = app
  // Per username: collector/auth/sign-in-limit.ts (taken before the hash, refills, never locks).
  const perUser = new SignInThrottle({ attemptsPer15Min: config.loginAttemptsPer15Min, now: app.now })
  const viewer = app.requireRole('viewer')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody }

  function setSessionCookies (request: FastifyRequest, reply: FastifyReply, id: string, csrf: string, maxAgeSec: number): void {
    const secure = auth.secureRequest(request)
    void reply.setCookie(SESSION_COOKIE, id, cookieOptions(maxAgeSec, true, secure))
    void reply.setCookie(CSRF_COOKIE, csrf, cookieOptions(maxAgeSec, false, secure))
    void reply.header('cache-control', 'no-store')
  }

  app.post('/api/v1/auth/login', {
    // Per address, strict: 3× the per-username budget per 15 minutes, whatever the
    // usernames, counted on arrival (before the body is even parsed).
    config: {
      rateLimit: {
        max: config.loginAttemptsPer15Min * 3,
        timeWindow: SIGN_IN_WINDOW_SEC * 1000,
        errorResponseBuilder: (_request: FastifyRequest, ctx: { ttl: number }) => tooMany('sign-in attempts from this address', Math.max(1, Math.ceil(ctx.ttl / 1000)))
      }
    },
    schema: { summary: 'Sign in with a username and password; sets the session cookie, returns the CSRF token', tags: ['auth'], body: LoginBody, response: { 200: LoginReply, ...errors } }
  }, async (request, reply) => {
    const body = request.body as Static<typeof LoginBody>
    if (!sameOrigin(request)) throw new VigieError('VIGIE_ERR_CSRF', 'sign-in from another site refused')
    const name = body.username.toLowerCase()
    // Charged before the hash runs: parallel guesses each take their own token.
    const ticket = perUser.attempt(name, request.ip)
    if (!ticket.result.ok) {
      app.counters.inc('sign_in_throttled')
      throw tooMany(`sign-in attempts for ${name.slice(0, 64)}`, ticket.result.retryAfterSec)
    }
    const found = auth.users.findForLogin(body.username)
    const ok = await verifyPassword(body.password, found?.passwordHash ?? await dummyHash())
    if (found === undefined || !ok || found.user.disabledMs !== null) {
      app.counters.inc('auth_failures')
      audit(app, { actor: 'anonymous', action: 'auth.login_failed', target: body.username.slice(0, 64), ip: request.ip, detail: { reason: found === undefined ? 'unknown user' : !ok ? 'wrong password' : 'disabled' } })
      throw new VigieError('VIGIE_ERR_LOGIN_FAILED')
    }
    ticket.succeeded()
    const s = auth.sessions.create(found.user.id, config.sessionTtlSec * 1000, app.now())
    setSessionCookies(request, reply, s.id, s.csrfToken, config.sessionTtlSec)
    audit(app, { actor: `user:${found.user.username}`, action: 'auth.login', target: found.user.id, ip: request.ip })
    return { user: userView(found.user), csrfToken: s.csrfToken }
  })

  app.post('/api/v1/auth/logout', {
    schema: { summary: 'End the session and clear its cookies', tags: ['auth'] }
  }, async (request, reply) => {
    const session = auth.sessionOf(request)
    if (session !== undefined) {
      auth.sessions.delete(session.idHash)
      audit(app, { actor: `user:${session.username}`, action: 'auth.logout', target: session.userId, ip: request.ip })
    }
    setSessionCookies(request, reply, '', '', 0)
    return reply.code(204).send()
  })

  app.get('/api/v1/auth/me', {
    onRequest: viewer,
    schema: { summary: 'Who is signed in (session or API token), and the CSRF token of a session', tags: ['auth'], response: { 200: MeReply, ...errors } }
  }, async (request) => {
    const t = request.technician!
    if (request.user?.via === 'session') {
      const session = auth.sessionOf(request)
      return { user: { id: request.user.id, username: request.user.username, role: request.user.role }, via: 'session', csrfToken: session?.csrfToken }
    }
    if (request.user !== undefined) return { user: { id: request.user.id, username: request.user.username, role: t.role }, via: 'token' }
    return { user: { id: t.id, username: t.name, role: t.role }, via: 'token' }
  })

  /* ---- a user's own API tokens ---- */

  function userOf (request: FastifyRequest): { id: string, username: string, role: keyof typeof ROLE_RANK } {
    const u = request.user
    if (u === undefined) throw new VigieError('VIGIE_ERR_CONFLICT', 'only user accounts own API tokens; admins manage all tokens under /api/v1/admin/tokens')
    return u
  }

  app.get('/api/v1/auth/tokens', {
    onRequest: viewer,
    schema: { summary: "The signed-in user's API tokens (never their values)", tags: ['auth'] }
  }, async (request) => {
    const u = userOf(request)
    const ids = new Set(auth.users.tokensOf(u.id))
    const now = app.now()
    return { items: (await app.apiTokens.list()).filter(tk => ids.has(tk.id)).map(tk => ({ id: tk.id, name: tk.name, role: tk.role, createdAt: new Date(tk.createdMs).toISOString(), ...tokenExpiryView(tk.expiresMs, now), ...(tk.revokedMs !== null ? { revokedAt: new Date(tk.revokedMs).toISOString() } : {}) })) }
  })

  app.post('/api/v1/auth/tokens', {
    onRequest: viewer,
    schema: { summary: 'Create an API token for yourself (role at most yours); the value is shown once', tags: ['auth'], body: OwnTokenBody, response: { 201: TokenCreated, ...errors } }
  }, async (request, reply) => {
    const u = userOf(request)
    const body = request.body as Static<typeof OwnTokenBody>
    const role = body.role ?? u.role
    if (ROLE_RANK[role] > ROLE_RANK[u.role]) throw new VigieError('VIGIE_ERR_FORBIDDEN', `a ${u.role} cannot create a ${role} token`)
    const now = app.now()
    const expiresAt = new Date(now + (body.expiresInDays ?? config.apiTokenDays) * 86_400_000).toISOString()
    const created = await app.apiTokens.create(role, body.name, now, Date.parse(expiresAt))
    auth.users.setTokenOwner(created.id, u.id)
    audit(app, { actor: `user:${u.username}`, action: 'token.create', target: created.id, ip: request.ip, detail: { name: body.name, role, owner: u.username, expiresAt } })
    return reply.code(201).send({ id: created.id, token: created.token, name: body.name, role, userId: u.id, expiresAt })
  })

  app.delete('/api/v1/auth/tokens/:id', {
    onRequest: viewer,
    schema: { summary: 'Revoke one of your API tokens', tags: ['auth'], params: IdParams }
  }, async (request, reply) => {
    const u = userOf(request)
    const id = (request.params as { id: string }).id
    if (auth.users.tokenOwner(id) !== u.id) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no token ${id} of yours`)
    if (!await app.apiTokens.revoke(id, app.now())) throw new VigieError('VIGIE_ERR_CONFLICT', `token ${id} is already revoked`)
    audit(app, { actor: `user:${u.username}`, action: 'token.revoke', target: id, ip: request.ip })
    return reply.code(204).send()
  })
}
