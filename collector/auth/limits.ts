/**
 * Request limits installed on the whole app: a per-address limit
 * (@fastify/rate-limit, 429 + Retry-After) that only a verified agent skips,
 * per-agent token buckets, stricter buckets on refused credentials and failed
 * enrollments, finite numbers only in bodies, WebSocket pings that drop silent
 * peers, and the per-agent frame limit the agent stream consults.
 *
 * Routes may set their own per-address limit with `config: { rateLimit: { max,
 * timeWindow } }` (the sign-in route does); the plugin is registered here, once.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { WebSocket } from 'ws'
import { VigieError } from '../core/errors.js'
import { firstNonFinite } from '../core/finite-numbers.js'
import { RateLimiter } from '../core/token-bucket.js'

/** Failed enrollments allowed per address: a burst, then one per this many seconds. */
const ENROLL_FAILURE_BURST = 20
const ENROLL_FAILURE_EVERY_SEC = 30

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * For the agent stream: false when this agent sent more frames than its limit
     * allows (the stream is then closed with 1013 and the agent falls back to HTTP,
     * where it is told when to retry). Always true when limits are off.
     */
    agentFrameAllowed: (agentId: string) => boolean
  }
}

export function tooMany (what: string, retryAfterSec: number): VigieError {
  return new VigieError('VIGIE_ERR_RATE_LIMITED', `too many ${what}; retry after ${retryAfterSec} s`, { headers: { 'retry-after': String(retryAfterSec) } })
}

/** The per-address window of the general limit, seconds: rateLimitIpPerMin / 6 requests per 10 s. */
export const IP_WINDOW_SEC = 10

export async function installLimits (app: FastifyInstance): Promise<void> {
  const { config, now } = app

  // Per-address limits run in @fastify/rate-limit (fixed windows, bounded LRU of
  // addresses). Its hook is appended to each route's onRequest hooks, so it runs after
  // the route's own authentication: `request.agent` is set only for a token the
  // registry verified. A whole office behind one NAT address is many agents, so
  // verified agents are limited per agent (below), never per address; any other
  // request (anonymous, technician, or a bogus `vga_…` bearer) counts for its address.
  await app.register(rateLimit, {
    global: config.rateLimitIpPerMin > 0,
    max: Math.max(10, Math.ceil(config.rateLimitIpPerMin / 6)),
    timeWindow: IP_WINDOW_SEC * 1000,
    cache: 100_000,
    keyGenerator: (request: FastifyRequest) => request.ip,
    allowList: (request: FastifyRequest) => request.agent !== undefined,
    errorResponseBuilder: (_request, ctx) => tooMany('requests from this address', Math.max(1, Math.ceil(ctx.ttl / 1000)))
  })

  if (config.rateLimitIpPerMin > 0) {
    // Refused credentials charge the address, agent-shaped or not. Our own bucket, not
    // the library: it is charged after the fact (on the 401/403 answer) and checked
    // before any work, which a request-counting window cannot express.
    const authFailures = new RateLimiter({ capacity: Math.max(10, Math.ceil(config.rateLimitIpPerMin / 6)), refillPerSec: config.rateLimitIpPerMin / 60, now })
    app.addHook('onRequest', (request, _reply, done) => {
      const failed = authFailures.check(request.ip)
      done(failed.ok ? undefined : tooMany('refused credentials from this address', failed.retryAfterSec))
    })
    app.addHook('onResponse', (request, reply, done) => {
      if (reply.statusCode === 401 || reply.statusCode === 403) authFailures.charge(request.ip)
      done()
    })
  }

  if (config.rateLimitAgentPerMin <= 0) app.decorate('agentFrameAllowed', () => true)
  else {
    // One bucket per agent for HTTP requests and one for stream frames. Our own buckets:
    // the stream's frames are not HTTP requests, so the library cannot count them.
    const opts = { capacity: Math.max(5, Math.ceil(config.rateLimitAgentPerMin / 4)), refillPerSec: config.rateLimitAgentPerMin / 60, now }
    const perAgent = new RateLimiter(opts)
    const frames = new RateLimiter(opts)
    app.decorate('agentFrameAllowed', (agentId: string) => frames.take(agentId).ok)
    app.addHook('preValidation', (request, _reply, done) => {
      if (request.agent === undefined) { done(); return }
      const r = perAgent.take(request.agent.id)
      done(r.ok ? undefined : tooMany('requests from this agent', r.retryAfterSec))
    })
  }

  // Enrollment tokens can be short when fixed by VIGIE_ENROLL_TOKEN: slow down guessing.
  const enrollFailures = new RateLimiter({ capacity: ENROLL_FAILURE_BURST, refillPerSec: 1 / ENROLL_FAILURE_EVERY_SEC, now })
  // Hooks on every request are callbacks, not async functions: each async hook costs
  // a promise and a microtask per request (measured on the ingest path).
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/api/v1/enroll') { done(); return }
    const r = enrollFailures.check(request.ip)
    done(r.ok ? undefined : tooMany('failed enrollments from this address', r.retryAfterSec))
  })
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode === 401 && request.routeOptions.url === '/api/v1/enroll') enrollFailures.charge(request.ip)
    done()
  })

  app.addHook('preHandler', (request, _reply, done) => {
    // A body schema already refuses non-finite numbers (TypeBox's number check), and
    // bodies are validated as sent, never coerced: walking them again was ~6 % of
    // ingest time. Only bodies without a schema are walked.
    if (request.body === undefined || request.body === null || typeof request.body !== 'object' || request.routeOptions.schema?.body !== undefined) { done(); return }
    const where = firstNonFinite(request.body)
    done(where === undefined ? undefined : new VigieError('VIGIE_ERR_VALIDATION', `body${where} must be a finite number`, { path: where }))
  })

  if (config.wsPingSec > 0) {
    const alive = new WeakMap<WebSocket, boolean>()
    const wss = app.websocketServer
    wss.on('connection', (socket: WebSocket) => {
      alive.set(socket, true)
      socket.on('pong', () => { alive.set(socket, true) })
    })
    const timer = setInterval(() => {
      for (const socket of wss.clients) {
        if (alive.get(socket) === false) { socket.terminate(); continue }
        alive.set(socket, false)
        try { socket.ping() } catch { /* closing already */ }
      }
    }, config.wsPingSec * 1000)
    timer.unref()
    app.addHook('onClose', async () => { clearInterval(timer) })
  }
}
