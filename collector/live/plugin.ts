/** The dashboards' live socket: a hub of browser sockets fed by stored reports and collector events. */
import fp from 'fastify-plugin'
import { LiveHub } from './hub.js'
import { liveRoutes } from './routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    live: LiveHub
  }
}

export const livePlugin = fp<{ flushMs?: number }>(async (app, opts) => {
  const { config, counters } = app
  const live = new LiveHub({
    flushMs: opts.flushMs,
    maxPerPrincipal: config.liveMaxSocketsPerUser,
    maxClients: config.liveMaxSockets,
    maxBufferedBytes: config.liveMaxBufferedBytes,
    onError: (what, err) => { app.log.warn({ err }, what) },
    onDrop: (reason, info) => { counters.inc('live_clients_dropped'); app.log.warn(info, `live socket cut off: ${reason}`) }
  })
  app.decorate('live', live)
  await app.register(liveRoutes)
  app.addHook('preClose', async () => { live.close() })
}, { name: 'vigie-live', dependencies: ['vigie-ingest', 'vigie-machines'], fastify: '5.x' })
