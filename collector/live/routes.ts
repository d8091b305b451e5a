/**
 * GET /api/v1/live — the dashboards' WebSocket. Server → browser: `{type:'hello'}`
 * then `{type:'batch', events:[…]}` frames. Browser → server:
 * `{type:'watch', machines:[ids]}` to receive full reports of those machines
 * (everyone receives per-report summaries).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import type { MetricValue, Unavailable } from '../../protocol/index.js'
import { LIMITS } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { summaryOf } from '../machines/routes.js'
import { jsonDepthExceeds } from '../ingest/closed.js'
import { LIVE_LIMIT_CLOSE } from './hub.js'
import type { LiveFrame } from './model.js'

/** Whose budget a live socket counts against: the user, or the token when it has none. */
function principalOf (request: FastifyRequest): string {
  if (request.user !== undefined) return `user:${request.user.id}`
  return `token:${request.technician?.id ?? 'unknown'}`
}

/** The live copy of a report's values: built here, field by field, never the agent's object. */
function liveMetrics (metrics: readonly MetricValue[]): MetricValue[] {
  return metrics.map(m => m.labels === undefined ? { name: m.name, unit: m.unit, value: m.value } : { name: m.name, unit: m.unit, value: m.value, labels: { ...m.labels } })
}

function liveUnavailable (list: readonly Unavailable[]): Unavailable[] {
  return list.map(u => ({ probe: u.probe, reason: u.reason }))
}

export async function liveRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {

  app.get('/api/v1/live', {
    websocket: true,
    config: { allowQueryToken: true },
    onRequest: app.requireRole('viewer'),
    // Budgets answered as HTTP 429 before the upgrade (per user, and in total).
    preHandler: async (request) => {
      const refused = app.live.refusal(principalOf(request))
      if (refused !== undefined) throw new VigieError('VIGIE_ERR_LIVE_LIMIT', refused, { headers: { 'retry-after': '30' } })
    },
    schema: { summary: 'WebSocket of live events (reports, machine status, incidents); token as Bearer or ?token=', tags: ['live'] }
  }, (socket: WebSocket, request) => {
    const client = app.live.add(socket, principalOf(request))
    if (typeof client === 'string') {
      // Lost a race with another upgrade of the same user: refused after all.
      socket.close(LIVE_LIMIT_CLOSE, `VIGIE_ERR_LIVE_LIMIT: ${client}`.slice(0, 120))
      return
    }
    socket.send(JSON.stringify({ type: 'hello', serverTime: new Date().toISOString() }))
    socket.on('message', (data: RawData) => {
      let msg: { type?: unknown, machines?: unknown }
      try {
        // dashboard frames are a few bytes (watch lists): one scan of their bytes
        const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
        if (jsonDepthExceeds(buf, LIMITS.maxJsonDepth)) throw new Error('too deep')
        msg = JSON.parse(buf.toString('utf8')) as typeof msg
      } catch {
        socket.close(4400, 'VIGIE_ERR_FRAME_INVALID: not JSON')
        return
      }
      if (msg.type === 'watch' && Array.isArray(msg.machines) && msg.machines.length <= 1000 && msg.machines.every(m => typeof m === 'string')) {
        client.detail = new Set(msg.machines as string[])
      } else if (msg.type !== 'ping') {
        socket.close(4400, 'VIGIE_ERR_FRAME_INVALID: expected {type:"watch", machines:[…]}')
      }
    })
  })

  // Every stored report becomes a summary event for all, and a full event for watchers,
  // in the order stored: one batch's frames go out before the next one's.
  let sent: Promise<void> = Promise.resolve()
  app.events.on('reports', (batch) => {
    // No dashboard connected: nothing to build (the summary costs an incident query).
    if (app.live.size === 0) return
    sent = sent.then(async () => {
      const summary = await summaryOf(app, batch.machineId)
      if (summary === undefined) return
      const machine: LiveFrame = { type: 'machine', machine: summary }
      app.live.publish(machine)
      for (const { report, atMs } of batch.accepted) {
        const frame: LiveFrame = { type: 'report', machineId: batch.machineId, atMs, seq: report.seq, metrics: liveMetrics(report.metrics), unavailable: liveUnavailable(report.unavailable) }
        app.live.publish(frame, { detailOf: batch.machineId })
      }
    }).catch((err: unknown) => { app.log.warn({ err, machineId: batch.machineId }, 'live update not sent') })
  })
  app.events.on('live', (event) => { app.live.publish(event) })
}
