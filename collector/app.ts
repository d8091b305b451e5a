/**
 * buildApp(options) assembles the collector — stores, ingest, API, live, static
 * dashboards — and never listens; collector/main.ts does.
 */
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify'
import websocket from '@fastify/websocket'
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import fastifyStatic from '@fastify/static'
import swagger from '@fastify/swagger'
import fs from 'node:fs'
import path from 'node:path'
import type { DestinationStream, LoggerOptions } from 'pino'
import { MAX_STREAM_FRAME_BYTES } from '../protocol/index.js'
import { loadCollectorConfig, type CollectorConfig } from './core/config.js'
import { corePlugin } from './core/plugin.js'
import { installErrorHandlers } from './core/http-errors.js'
import { installSecurityHeaders } from './core/security-headers.js'
import { installConnectionBudget } from './core/connections.js'
import { loggerOptions } from './core/logger.js'
import { loadTls } from './core/tls.js'
import { storePlugin } from './store/plugin.js'
import { fleetPlugin } from './machines/fleet-plugin.js'
import { authPlugin } from './auth/plugin.js'
import { ingestPlugin } from './ingest/plugin.js'
import { incidentsPlugin } from './incidents/plugin.js'
import { detectPlugin } from './detect/plugin.js'
import { machinesPlugin } from './machines/plugin.js'
import { livePlugin } from './live/plugin.js'
import { opsRoutes } from './ops/routes.js'
import { swaggerOptions } from './ops/docs.js'

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
  /** called with each route as it is registered (tests list every route with it) */
  onRoute?: (route: RouteOptions) => void
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
    // The areas start inside plugins: opening and checking a large database or waiting
    // for InfluxDB can outlast Fastify's 10 s default (seen under load in tests), so a
    // start is given 10 minutes before it fails with "Plugin did not start in time".
    pluginTimeout: 600_000,
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
      app.counters.inc('connections_refused')
      const t = Date.now()
      if ((refusedLogged.get(address) ?? 0) > t - 60_000) return
      if (refusedLogged.size > 10_000) refusedLogged.clear()
      refusedLogged.set(address, t)
      app.log.warn({ address, open, max: config.maxConnectionsPerIp }, 'connection refused: too many open connections from this address (logged once a minute per address)')
    }
  })

  await app.register(corePlugin, { config, now })
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute)
  // /docs is written by @fastify/swagger from the routes' own TypeBox schemas (ops/docs.ts).
  await app.register(swagger, swaggerOptions)
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
  // Each area is a plugin that decorates its services and names the areas it needs
  // (docs/architecture.md); a missing one fails here, at boot, with Fastify's message.
  await app.register(storePlugin)
  await app.register(fleetPlugin)
  await app.register(authPlugin)
  await app.register(ingestPlugin)
  await app.register(incidentsPlugin)
  await app.register(detectPlugin)
  await app.register(machinesPlugin)
  await app.register(livePlugin, { flushMs: options.liveFlushMs })
  await app.register(opsRoutes)

  if (fs.existsSync(config.dashboardsDir)) {
    await app.register(fastifyStatic, { root: path.resolve(config.dashboardsDir), prefix: '/', wildcard: false, index: 'index.html' })
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/html').send(
      '<!doctype html><title>Vigie</title><p>Vigie collector is running. The dashboard is not built: run <code>npm run build:dashboards</code>.</p>'
    ))
  }

  return app
}
