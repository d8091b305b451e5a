/**
 * GET /api/v1/live — the dashboards' WebSocket. Server → browser: `{type:'hello'}`
 * then `{type:'batch', events:[…]}` frames. Browser → server:
 * `{type:'watch', machines:[ids]}` to receive full reports of those machines
 * (everyone receives per-report summaries).
 */
import type { FastifyInstance } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import { requireRole } from '../http/auth.js'
import type { Vigie } from '../vigie.js'
import { summaryOf } from '../api/machines.js'

export async function liveRoutes (app: FastifyInstance, opts: { vigie: Vigie }): Promise<void> {
  const { vigie } = opts

  app.get('/api/v1/live', {
    websocket: true,
    config: { allowQueryToken: true },
    onRequest: requireRole(vigie.registry, 'viewer'),
    schema: { summary: 'WebSocket of live events (reports, machine status, incidents); token as Bearer or ?token=', tags: ['live'] }
  }, (socket: WebSocket) => {
    const client = vigie.live.add(socket)
    socket.send(JSON.stringify({ type: 'hello', serverTime: new Date().toISOString() }))
    socket.on('message', (data: RawData) => {
      let msg: { type?: unknown, machines?: unknown }
      try {
        msg = JSON.parse(String(data)) as typeof msg
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

  // Every stored report becomes a summary event for all, and a full event for watchers.
  vigie.events.on('reports', (batch) => {
    // No dashboard connected: nothing to build (the summary costs an incident query).
    if (vigie.live.size === 0) return
    const summary = summaryOf(vigie, batch.machineId)
    if (summary === undefined) return
    vigie.live.publish({ type: 'machine', machine: summary })
    for (const { report, atMs } of batch.accepted) {
      vigie.live.publish({ type: 'report', machineId: batch.machineId, atMs, seq: report.seq, metrics: report.metrics, unavailable: report.unavailable }, { detailOf: batch.machineId })
    }
  })
  vigie.events.on('live', (event) => { vigie.live.publish(event) })
}
