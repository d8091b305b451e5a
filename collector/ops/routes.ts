/**
 * Operator routes: liveness, readiness, Prometheus metrics, and the OpenAPI document.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createHash, timingSafeEqual } from 'node:crypto'
import { bearerToken } from '../auth/guards.js'
import { DiskSpace } from './disk.js'
import { integrityOf } from '../store/sqlite/db.js'

/**
 * /metrics and /docs: open when no ops token is configured (the collector listens on
 * loopback by default); with VIGIE_OPS_TOKEN set, they need that token as a bearer
 * (a Prometheus scraper's `authorization` setting) or an admin API token or session.
 */
function opsAccess (app: FastifyInstance) {
  const admin = app.requireRole('admin')
  const expected = app.config.opsToken === undefined ? undefined : createHash('sha256').update(app.config.opsToken).digest()
  return async function (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (expected === undefined) return
    const sent = bearerToken(request)
    if (sent !== undefined && timingSafeEqual(createHash('sha256').update(sent).digest(), expected)) return
    await admin(request, reply)
  }
}

export async function opsRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {

  app.get('/healthz', { schema: { summary: 'Liveness: the process answers', tags: ['ops'] } }, async () => ({ status: 'ok' }))

  // readiness: free space of the data folder and the integrity check at start (docs/storage.md)
  const disk = new DiskSpace(app.config.dataDir, app.config.minFreeDiskMb * 1048576)
  app.get('/readyz', { schema: { summary: 'Readiness: the stores take writes (free disk space, database integrity at start)', tags: ['ops'] } }, async (_request, reply) => {
    const metric = app.metrics.status()
    let db = true
    let dbError: string | undefined
    // Names the file by its name only: /readyz needs no token.
    try { app.db.prepare('SELECT 1').get() } catch (err) { db = false; dbError = `the collector's database (vigie.db): ${(err as Error).message}` }
    const integrity = integrityOf(app.db)
    const intact = integrity?.state !== 'failed'
    const space = await disk.check()
    const ready = db && intact && space.ok && metric.ready && metric.accepting !== false
    const reasons = [
      ...(dbError !== undefined ? [dbError] : []),
      ...(!intact ? [`the collector's database (vigie.db) failed its integrity check at start: ${integrity?.detail ?? ''}`] : []),
      ...(space.error !== undefined ? [space.error] : []),
      ...(!metric.ready || metric.accepting === false ? [`metric store (${app.metrics.kind}) ${metric.lastError ?? 'not accepting writes'}`] : [])
    ]
    const body = {
      status: ready ? 'ready' : 'degraded',
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      checks: {
        database: { ok: db, ...(dbError !== undefined ? { error: dbError } : {}) },
        integrity: { ok: intact, state: integrity?.state ?? 'skipped', ...(integrity?.detail !== undefined ? { detail: integrity.detail } : {}) },
        disk: { ok: space.ok, ...(space.freeBytes !== undefined ? { freeBytes: space.freeBytes } : {}), minFreeBytes: space.minFreeBytes, ...(space.error !== undefined ? { error: space.error } : {}) },
        metricStore: { ok: metric.ready, kind: app.metrics.kind, backlog: metric.backlog, accepting: metric.accepting !== false, ...(metric.lastError !== undefined ? { error: metric.lastError } : {}) }
      }
    }
    return reply.code(ready ? 200 : 503).send(body)
  })

  const ops = opsAccess(app)

  app.get('/metrics', { onRequest: ops, schema: { summary: 'Prometheus text metrics', tags: ['ops'] } }, async (_request, reply) => {
    const mem = process.memoryUsage()
    const st = app.metrics.status()
    let out = app.counters.render()
    const gauge = (name: string, help: string, value: number): void => {
      out += `# HELP vigie_${name} ${help}\n# TYPE vigie_${name} gauge\nvigie_${name} ${value}\n`
    }
    gauge('agent_streams', 'agent WebSockets open', app.streams.size)
    gauge('live_clients', 'dashboard WebSockets open', app.live.size)
    gauge('metric_store_backlog', 'points accepted but not yet in the metric store', st.backlog)
    gauge('metric_store_ready', '1 when the metric store takes writes', st.ready ? 1 : 0)
    gauge('detection_backlog_reports', 'stored reports handed to the detection engine and not yet observed', app.detection?.backlog ?? 0)
    gauge('process_resident_memory_bytes', 'resident set size', mem.rss)
    gauge('process_heap_used_bytes', 'V8 heap used', mem.heapUsed)
    return reply.type('text/plain; version=0.0.4').send(out)
  })

  // Written once, on the first request (every route is registered by then), and served
  // as the same text afterwards.
  let docs: string | undefined
  app.get('/docs', { onRequest: ops, schema: { summary: 'OpenAPI 3 document of this API', tags: ['ops'] } }, async (_request, reply) => {
    docs ??= JSON.stringify(app.swagger())
    return reply.type('application/json; charset=utf-8').send(docs)
  })
}
