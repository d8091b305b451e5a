/** Picks the metric store the configuration asks for. */
import type { FastifyBaseLogger } from 'fastify'
import type { CollectorConfig } from '../config.js'
import type { Db } from './sqlite/db.js'
import type { MetricStore } from './metric-store.js'
import { SqliteMetricStore } from './sqlite/metrics.js'
import { MetricOutbox } from './sqlite/outbox.js'
import { InfluxMetricStore } from './influx/influx-metric-store.js'

export function createMetricStore (config: CollectorConfig, db: Db, log: FastifyBaseLogger): MetricStore {
  if (config.metricStore === 'influx') {
    return new InfluxMetricStore({
      url: config.influxUrl!,
      database: config.influxDatabase,
      outbox: new MetricOutbox(db),
      logger: log,
      rawRetentionDays: config.retentionDays,
      rollup5mRetentionDays: config.influxRollup5mDays,
      rollup1hRetentionDays: config.influxRollup1hDays,
      flushIntervalMs: config.influxFlushMs,
      batchSize: config.influxBatchSize,
      maxBacklog: config.influxMaxBacklog,
      requestTimeoutMs: config.influxTimeoutMs,
      manageSchema: config.influxManageSchema
    })
  }
  return new SqliteMetricStore(db, {
    retentionDays: config.retentionDays,
    rollupRetentionDays: config.rollupRetentionDays,
    maxSeriesPerMachine: config.maxSeriesPerMachine,
    onSeriesLimit: (machineId, limit) => { log.warn({ machineId, limit }, 'machine reached its series bound; points of new series are dropped') }
  })
}
