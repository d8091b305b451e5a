/**
 * The ingest area: the write path (IngestService: dedup by (agent, seq), clock-skew
 * correction, group commit) and the agent streams, with the agent-facing routes.
 * It owns the in-process event bus: it announces what it stored ('reports'); the
 * areas above it (detection, incidents, live) listen and publish live frames.
 */
import fp from 'fastify-plugin'
import { IngestService } from './ingest.js'
import { AgentStreams } from './streams.js'
import { ingestRoutes } from './routes.js'
import { CollectorEvents } from './events.js'

declare module 'fastify' {
  interface FastifyInstance {
    ingest: IngestService
    /** what ingest stored, and the live frames of the areas above it */
    events: CollectorEvents
    /** agents connected by WebSocket */
    streams: AgentStreams
  }
}

export const ingestPlugin = fp(async (app) => {
  const { config, registry, metrics, counters, fleet, now, dbFile } = app
  const events = new CollectorEvents()
  app.decorate('events', events)
  app.decorate('ingest', new IngestService({
    registry,
    metrics,
    events,
    counters,
    fleet,
    now,
    dbFile,
    timeWindow: { maxSampleAgeMs: config.maxSampleAgeHours * 3_600_000, sampleFutureMs: config.sampleFutureSec * 1000, maxClockSkewMs: config.maxClockSkewHours * 3_600_000 }
  }))
  const streams = new AgentStreams()
  app.decorate('streams', streams)
  await app.register(ingestRoutes)
  app.addHook('preClose', async () => { streams.closeAll(1001, 'collector stopping') })
}, { name: 'vigie-ingest', dependencies: ['vigie-auth', 'vigie-fleet'], fastify: '5.x' })
