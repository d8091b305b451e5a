/** Every admin route: users, API and enrollment tokens, agent identity, audit log. */
import type { FastifyInstance } from 'fastify'
import type { Vigie } from '../vigie.js'
import type { AuthService } from './service.js'
import { adminUserRoutes } from './admin-users.js'
import { adminTokenRoutes } from './admin-tokens.js'
import { adminAgentRoutes } from '../agents/admin-routes.js'
import { adminAuditRoutes } from '../audit/routes.js'

export async function adminRoutes (app: FastifyInstance, opts: { vigie: Vigie, auth: AuthService }): Promise<void> {
  await app.register(adminUserRoutes, opts)
  await app.register(adminTokenRoutes, opts)
  await app.register(adminAgentRoutes, opts)
  await app.register(adminAuditRoutes, { vigie: opts.vigie })
}
