/** Picks the metric store the configuration asks for. */
import type { FastifyBaseLogger } from 'fastify'
import type { CollectorConfig } from '../config.js'
import type { Db } from './sqlite/db.js'
import type { MetricStore } from './metric-store.js'
import { SqliteMetricStore } from './sqlite/metrics.js'

export function createMetricStore (config: CollectorConfig, db: Db, _log: FastifyBaseLogger): MetricStore {
  if (config.metricStore === 'influx') {
    throw new Error('VIGIE_METRIC_STORE=influx is not wired in yet')
  }
  return new SqliteMetricStore(db, { retentionDays: config.retentionDays, rollupRetentionDays: config.rollupRetentionDays })
}
