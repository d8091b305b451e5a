/**
 * buildApp(options) assembles the collector — stores, ingest, API, live, static
 * dashboards — and never listens; collector/main.ts does.
 */
import Fastify, { LogController, type FastifyInstance, type FastifySchema, type RouteOptions } from 'fastify'
import websocket from '@fastify/websocket'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import fastifyStatic from '@fastify/static'
import fs from 'node:fs'
import path from 'node:path'
import type { DestinationStream, LoggerOptions } from 'pino'
import { MAX_STREAM_FRAME_BYTES } from '../protocol/index.js'
import { loadCollectorConfig, type CollectorConfig } from './core/config.js'
import { openDb } from './store/sqlite/db.js'
import { startCheckpointer } from './store/sqlite/checkpointer.js'
import { LATEST_CHECKPOINT_MS, Registry } from './store/sqlite/registry.js'
import { createMetricStore } from './store/create.js'
import { CollectorEvents } from './core/events.js'
import { IngestService } from './ingest/ingest.js'
import { AgentStreams } from './ingest/streams.js'
import { LiveHub } from './live/hub.js'
import { Counters } from './ops/counters.js'
import { MachineStatusBoard } from './machines/status.js'
import { FleetIndex } from './machines/fleet-index.js'
import { installErrorHandlers } from './core/http-errors.js'
import { installSecurityHeaders } from './core/security-headers.js'
import { ingestRoutes } from './ingest/routes.js'
import { machineRoutes } from './machines/routes.js'
import { liveRoutes } from './live/routes.js'
import { opsRoutes } from './ops/routes.js'
import { incidentsPlugin } from './incidents/plugin.js'
import { detectWiring } from './detect/plugin.js'
import { loggerOptions } from './core/logger.js'
import { installTrust } from './auth/plugin.js'
import { loadTls } from './core/tls.js'
import { installConnectionBudget } from './core/connections.js'
import type { Vigie } from './vigie.js'

declare module 'fastify' {
  interface FastifyInstance {
    vigie: Vigie
  }
}

/** Marks a route as not part of the API document (the dashboard's pages). */
const HIDDEN = { hide: true } as FastifySchema

export interface BuildAppOptions {
  /** overrides on top of the environment and defaults */
  config?: Partial<CollectorConfig>
  /** false for silence, pino options, or a destination stream for JSON logs (tests) */
  logger?: boolean | LoggerOptions | { stream: DestinationStream, level?: string }
  /** clock, for tests */
  now?: () => number
  /** environment to read configuration from (default process.env) */
  env?: NodeJS.ProcessEnv
  /** live batching interval, ms */
  liveFlushMs?: number
}

export async function buildApp (options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config = loadCollectorConfig(options.config, options.env)
  const now = options.now ?? Date.now
  let logger: boolean | LoggerOptions | { stream: DestinationStream, level?: string }
  if (options.logger === undefined || options.logger === true) logger = loggerOptions(config.logLevel)
  else if (options.logger !== false && 'stream' in options.logger) logger = { ...loggerOptions(options.logger.level ?? config.logLevel, false), stream: options.logger.stream } as LoggerOptions
  else logger = options.logger

  const tls = loadTls(config)
  const app = Fastify({
    logger: logger as LoggerOptions,
    bodyLimit: config.bodyLimitBytes,
    // Per-request logs at fleet scale are noise; refused requests are logged in onResponse.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: true,
    // trust: TLS, proxies and server timeouts (collector/core/tls.ts, docs/deployment.md)
    ...(tls !== undefined ? { https: tls } : {}),
    // a hop count is valid at run time (proxy-addr) though Fastify's types omit number
    trustProxy: config.trustProxy as boolean | string,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs
  }) as unknown as FastifyInstance

  // budgets: connections per address; header and request timeouts checked every second, not every 30 s (collector/core/connections.ts)
  const refusedLogged = new Map<string, number>()
  installConnectionBudget(app.server, config, {
    onRefused: (address, open) => {
      vigie.counters.inc('connections_refused')
      const t = Date.now()
      if ((refusedLogged.get(address) ?? 0) > t - 60_000) return
      if (refusedLogged.size > 10_000) refusedLogged.clear()
      refusedLogged.set(address, t)
      app.log.warn({ address, open, max: config.maxConnectionsPerIp }, 'connection refused: too many open connections from this address (logged once a minute per address)')
    }
  })

  const dbFile = path.join(config.dataDir, 'vigie.db')
  // ops: data folder 0700, files 0600, integrity check at start (docs/storage.md)
  const db = openDb(dbFile, { integrityCheckMaxBytes: config.integrityCheckMaxMb * 1048576, log: (level, message, fields) => { app.log[level](fields ?? {}, message) } })
  const checkpointer = startCheckpointer(db, dbFile, { onWarn: (message) => { app.log.warn(message) } })
  const counters = new Counters()
  const metrics = createMetricStore(config, db, app.log, { onSeriesDropped: (n) => { counters.inc('series_dropped_global_cap', n) } })
  const registry = new Registry(db, metrics)
  registry.setInventoryBudget({ maxChangesPerReport: config.inventoryMaxChangesPerReport, maxHistoryPerMachine: config.inventoryMaxHistoryPerMachine })
  const events = new CollectorEvents()
  const vigie: Vigie = {
    config,
    db,
    registry,
    metrics,
    events,
    counters,
    ingest: new IngestService({ registry, metrics, events, counters, now, dbFile, timeWindow: { maxSampleAgeMs: config.maxSampleAgeHours * 3_600_000, sampleFutureMs: config.sampleFutureSec * 1000, maxClockSkewMs: config.maxClockSkewHours * 3_600_000 } }),
    streams: new AgentStreams(),
    live: new LiveHub({ flushMs: options.liveFlushMs, maxPerPrincipal: config.liveMaxSocketsPerUser, maxClients: config.liveMaxSockets, maxBufferedBytes: config.liveMaxBufferedBytes, onError: (what, err) => { app.log.warn({ err }, what) }, onDrop: (reason, info) => { counters.inc('live_clients_dropped'); app.log.warn(info, `live socket cut off: ${reason}`) } }),
    status: new MachineStatusBoard(config.reportIntervalSec),
    fleet: new FleetIndex(),
    now
  }
  app.decorate('vigie', vigie)
  vigie.fleet.load(registry.listMachines())
  // Synchronous, right after each commit: the fleet list is current before live and detection see the batch.
  registry.onMachineChanged((m) => { vigie.fleet.upsert(m) })
  await metrics.start()

  const routes: RouteOptions[] = []
  app.addHook('onRoute', (r) => { routes.push(r) })
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 400) {
      request.log.info({ method: request.method, url: request.url.split('?')[0], statusCode: reply.statusCode }, 'request refused')
    }
    done()
  })

  // TypeBox validates every schema (the same compiler as the agent stream): bodies
  // are checked as sent, never coerced (a null metric must not become a fake 0);
  // query strings and params are converted from text, as they must be.
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
  installErrorHandlers(app)
  installSecurityHeaders(app, { sourceMaps: config.sourceMaps })
  // Every route speaks JSON; anything else is refused with 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain')
  await app.register(websocket, { options: { maxPayload: MAX_STREAM_FRAME_BYTES } })
  // ---- trust: users, sessions, CSRF, API and agent tokens, limits, audit, admin API (collector/auth, collector/limits, collector/admin) ----
  await installTrust(app, vigie, routes)
  // ---- end trust ----
  await app.register(ingestRoutes, { vigie })
  await app.register(machineRoutes, { vigie })
  await app.register(liveRoutes, { vigie })
  await app.register(incidentsPlugin, { vigie })
  await app.register(detectWiring, { vigie })
  await app.register(opsRoutes, { vigie, routes })

  if (fs.existsSync(config.dashboardsDir)) {
    await app.register(fastifyStatic, { root: path.resolve(config.dashboardsDir), prefix: '/', wildcard: false, index: 'index.html' })
  } else {
    app.get('/', { schema: HIDDEN }, async (_req, reply) => reply.type('text/html').send(
      '<!doctype html><title>Vigie</title><p>Vigie collector is running. The dashboard is not built: run <code>npm run build:dashboards</code>.</p>'
    ))
  }

  // Retention: prune raw samples and the seq ledger hourly.
  const prune = async (): Promise<void> => {
    try {
      const dropped = await metrics.prune(now())
      const ledger = registry.pruneLedger(now() - config.retentionDays * 86_400_000)
      const inventoryChanges = registry.pruneInventoryChanges(now() - config.inventoryHistoryDays * 86_400_000)
      if (dropped > 0 || ledger > 0 || inventoryChanges > 0) app.log.info({ dropped, ledger, inventoryChanges }, 'retention pruned old data')
    } catch (err) {
      app.log.warn({ err }, 'retention prune failed')
    }
  }
  const pruneTimer = setInterval(() => { void prune() }, 3_600_000)
  pruneTimer.unref()
  // Machine rows and latest values are checkpointed at most every LATEST_CHECKPOINT_MS
  // while a machine reports; this writes those of machines gone quiet since, and all on close.
  const latestTimer = setInterval(() => {
    try { registry.flushLatest(LATEST_CHECKPOINT_MS, now()) } catch (err) { app.log.warn({ err }, 'latest values not checkpointed') }
  }, LATEST_CHECKPOINT_MS / 2)
  latestTimer.unref()

  app.addHook('preClose', async () => {
    vigie.streams.closeAll(1001, 'collector stopping')
    vigie.live.close()
  })
  app.addHook('onClose', async () => {
    clearInterval(pruneTimer)
    clearInterval(latestTimer)
    try { registry.flushLatest(0, now()) } catch (err) { app.log.warn({ err }, 'latest values not checkpointed') }
    await metrics.close()
    await checkpointer.stop()
    db.close()
  })
  return app
}
