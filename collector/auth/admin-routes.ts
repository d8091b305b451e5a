/** Every admin route: users, API and enrollment tokens, agent identity, audit log. */
import type { FastifyInstance } from 'fastify'
import { adminUserRoutes } from './admin-users.js'
import { adminTokenRoutes } from './admin-tokens.js'
import { adminAgentRoutes } from '../agents/admin-routes.js'
import { adminAuditRoutes } from '../audit/routes.js'

export async function adminRoutes (app: FastifyInstance): Promise<void> {
  await app.register(adminUserRoutes)
  await app.register(adminTokenRoutes)
  await app.register(adminAgentRoutes)
  await app.register(adminAuditRoutes)
}
