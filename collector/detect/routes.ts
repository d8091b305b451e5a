/** GET /api/v1/machines/:id/anomalies: a machine's learned-baseline anomalies (hints, not incidents). */
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { VigieError } from '../core/errors.js'

export async function anomalyRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  app.get('/api/v1/machines/:id/anomalies', {
    onRequest: app.requireRole('viewer'),
    schema: {
      summary: "The machine's learned-baseline anomalies (hints, not incidents), newest first",
      tags: ['machines'],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) })
    }
  }, async (request) => {
    const { id } = request.params as { id: string }
    if (app.registry.getMachine(id) === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no machine ${id}`)
    const limit = (request.query as { limit?: number }).limit ?? 50
    const rows = await app.anomalyLog.list(id, limit)
    return { machineId: id, items: rows.map(r => ({ at: new Date(r.atMs).toISOString(), series: r.series, state: r.state, title: r.title, evidence: r.evidence })) }
  })
}
