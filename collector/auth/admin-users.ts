/** Admin: technician accounts — list, create, read, change (role, password, disabled), delete. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { actorOf, audit } from '../audit/audit.js'
import { generatePassword, hashPassword, passwordProblem, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js'
import { USERNAME_PATTERN, type User } from './users.js'
import { RoleSchema, UserView, userView } from './views.js'

const CreateBody = Type.Object({
  username: Type.String({ pattern: USERNAME_PATTERN }),
  role: RoleSchema,
  // Length is checked by the password policy (VIGIE_ERR_PASSWORD_POLICY), not the schema; the body limit bounds it first.
  password: Type.Optional(Type.String({ description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, not only white space; omit to have one generated (returned once)` }))
}, { additionalProperties: false })
const PatchBody = Type.Object({
  role: Type.Optional(RoleSchema),
  password: Type.Optional(Type.String({ description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters, not only white space` })),
  resetPassword: Type.Optional(Type.Boolean({ description: 'generate a new password (returned once)' })),
  disabled: Type.Optional(Type.Boolean())
}, { additionalProperties: false })
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })
const WithPassword = Type.Object({ user: UserView, password: Type.Optional(Type.String({ description: 'generated password, shown once' })) })

export async function adminUserRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const auth = app.auth
  const admin = app.requireRole('admin')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody }

  function userOr404 (id: string): User {
    const u = auth.users.get(id)
    if (u === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no user ${id}`)
    return u
  }
  function checkPassword (pw: string, username: string): void {
    const why = passwordProblem(pw, username)
    if (why !== undefined) throw new VigieError('VIGIE_ERR_PASSWORD_POLICY', why, { path: '/password' })
  }
  /** The last enabled admin account cannot be demoted, disabled or deleted (nobody could sign in to fix it). */
  function keepAnAdmin (u: User): void {
    if (u.role === 'admin' && u.disabledMs === null && auth.users.countActiveAdmins() <= 1) {
      throw new VigieError('VIGIE_ERR_CONFLICT', `${u.username} is the last enabled admin; create another admin first`)
    }
  }
  const rec = (request: FastifyRequest, action: string, target: string, detail?: Record<string, unknown>): void => {
    audit(app, { actor: actorOf(request), action, target, ip: request.ip, ...(detail !== undefined ? { detail } : {}) })
  }

  app.get('/api/v1/admin/users', {
    onRequest: admin,
    schema: { summary: 'Technician accounts', tags: ['admin'], response: { 200: Type.Object({ items: Type.Array(UserView) }), ...errors } }
  }, async () => ({ items: auth.users.list().map(userView) }))

  app.post('/api/v1/admin/users', {
    onRequest: admin,
    schema: { summary: 'Create a technician account (password generated when omitted, returned once)', tags: ['admin'], body: CreateBody, response: { 201: WithPassword, ...errors } }
  }, async (request, reply) => {
    const body = request.body as Static<typeof CreateBody>
    const generated = body.password === undefined ? generatePassword() : undefined
    const password = body.password ?? generated!
    checkPassword(password, body.username)
    const user = auth.users.create({ username: body.username, role: body.role, passwordHash: await hashPassword(password) }, app.now())
    if (user === undefined) throw new VigieError('VIGIE_ERR_CONFLICT', `username ${body.username} is taken`)
    rec(request, 'user.create', user.id, { username: user.username, role: user.role })
    return reply.code(201).send({ user: userView(user), ...(generated !== undefined ? { password: generated } : {}) })
  })

  app.get('/api/v1/admin/users/:id', {
    onRequest: admin,
    schema: { summary: 'One technician account', tags: ['admin'], params: IdParams, response: { 200: UserView, ...errors } }
  }, async (request) => userView(userOr404((request.params as { id: string }).id)))

  app.patch('/api/v1/admin/users/:id', {
    onRequest: admin,
    schema: { summary: "Change a user's role, password or disabled state; a password change or disable ends the user's sessions", tags: ['admin'], params: IdParams, body: PatchBody, response: { 200: WithPassword, ...errors } }
  }, async (request) => {
    const u = userOr404((request.params as { id: string }).id)
    const body = request.body as Static<typeof PatchBody>
    if ((body.role !== undefined && body.role !== 'admin') || body.disabled === true) keepAnAdmin(u)
    if (body.password !== undefined && body.resetPassword === true) throw new VigieError('VIGIE_ERR_VALIDATION', 'give a password or resetPassword, not both', { path: '/resetPassword' })
    const generated = body.resetPassword === true ? generatePassword() : undefined
    const password = body.password ?? generated
    if (password !== undefined) checkPassword(password, u.username)
    const updated = auth.users.update(u.id, {
      ...(body.role !== undefined ? { role: body.role } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      ...(password !== undefined ? { passwordHash: await hashPassword(password) } : {})
    }, app.now())!
    let sessionsEnded = 0
    if (password !== undefined || body.disabled === true) sessionsEnded = auth.sessions.deleteForUser(u.id)
    rec(request, 'user.update', u.id, {
      username: u.username,
      ...(body.role !== undefined ? { role: { from: u.role, to: body.role } } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      ...(password !== undefined ? { passwordChanged: true } : {}),
      sessionsEnded
    })
    return { user: userView(updated), ...(generated !== undefined ? { password: generated } : {}) }
  })

  app.delete('/api/v1/admin/users/:id', {
    onRequest: admin,
    schema: { summary: "Delete a user: its sessions end and its API tokens are revoked", tags: ['admin'], params: IdParams }
  }, async (request, reply) => {
    const u = userOr404((request.params as { id: string }).id)
    keepAnAdmin(u)
    const now = app.now()
    let revoked = 0
    for (const tokenId of auth.users.tokensOf(u.id)) if (await app.apiTokens.revoke(tokenId, now)) revoked++
    auth.sessions.deleteForUser(u.id)
    auth.users.delete(u.id)
    rec(request, 'user.delete', u.id, { username: u.username, tokensRevoked: revoked })
    return reply.code(204).send()
  })
}
