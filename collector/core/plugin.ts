/**
 * The collector's core services, decorated on the app for every area: its
 * configuration, its clock and the ops counters.
 */
import fp from 'fastify-plugin'
import type { CollectorConfig } from './config.js'
import { Counters } from './counters.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: CollectorConfig
    /** the collector's clock (tests pass their own) */
    now: () => number
    counters: Counters
  }
}

export interface CoreOptions { config: CollectorConfig, now: () => number }

export const corePlugin = fp<CoreOptions>(async (app, opts) => {
  app.decorate('config', opts.config)
  app.decorate('now', opts.now)
  app.decorate('counters', new Counters())
}, { name: 'vigie-core', fastify: '5.x' })
