/**
 * Enrollment rate limits (identity): every enrollment request, successful or
 * not, counts per client address and in total, with @fastify/rate-limit's
 * limiter (its own store, used on the enroll route only). Over a limit: 429
 * VIGIE_ERR_RATE_LIMITED with Retry-After; agents honour it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import type { CollectorConfig } from '../core/config.js'
import { VigieError } from '../core/errors.js'

type Limiter = (req: FastifyRequest) => Promise<{ isAllowed: boolean, isExceeded?: boolean, ttlInSeconds?: number }>

export const ENROLL_WINDOW_MS = 60_000

export async function enrollRateLimit (app: FastifyInstance, config: Pick<CollectorConfig, 'enrollRatePerAddressPerMin' | 'enrollRatePerMin'>): Promise<(request: FastifyRequest, reply: FastifyReply) => Promise<void>> {
  // Registered here only when no other part of the app did: the limiters below have their own stores either way.
  if (!app.hasDecorator('createRateLimit')) await app.register(rateLimit, { global: false })
  const create = (app as unknown as { createRateLimit: (o: object) => Limiter }).createRateLimit
  const common = { timeWindow: ENROLL_WINDOW_MS, allowList: [], ban: -1, continueExceeding: false, exponentialBackoff: false, skipOnError: false }
  const limiters: Array<{ check: Limiter, what: string }> = []
  if (config.enrollRatePerAddressPerMin > 0) {
    limiters.push({ check: create({ ...common, max: config.enrollRatePerAddressPerMin, keyGenerator: (req: FastifyRequest) => `enroll:${req.ip}` }), what: `${config.enrollRatePerAddressPerMin} enrollments per minute from one address (VIGIE_ENROLL_RATE_PER_ADDRESS)` })
  }
  if (config.enrollRatePerMin > 0) {
    limiters.push({ check: create({ ...common, max: config.enrollRatePerMin, keyGenerator: () => 'enroll:all' }), what: `${config.enrollRatePerMin} enrollments per minute in total (VIGIE_ENROLL_RATE)` })
  }
  return async function (request: FastifyRequest): Promise<void> {
    for (const l of limiters) {
      const r = await l.check(request)
      if (!r.isAllowed && r.isExceeded === true) {
        const after = Math.max(1, r.ttlInSeconds ?? 60)
        throw new VigieError('VIGIE_ERR_RATE_LIMITED', `too many enrollments: at most ${l.what}; retry in ${after} s`, { headers: { 'retry-after': String(after) } })
      }
    }
  }
}
