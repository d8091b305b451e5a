/** Picks the metric store the configuration asks for. */
import type { FastifyBaseLogger } from 'fastify'
import type { CollectorConfig } from '../core/config.js'
import type { Db } from './sqlite/db.js'
import type { MetricStore } from './metric-store.js'
import { SqliteMetricStore } from './sqlite/metrics.js'
import { MetricOutbox } from './sqlite/outbox.js'
import { SeriesRegistry } from './sqlite/series-registry.js'
import { InfluxMetricStore } from './influx/influx-metric-store.js'

/** Budgets: points dropped at VIGIE_MAX_SERIES_TOTAL are counted here (/metrics) and logged once a minute per machine. */
export interface MetricStoreHooks {
  onSeriesDropped?: (points: number) => void
}

export function createMetricStore (config: CollectorConfig, db: Db, log: FastifyBaseLogger, hooks: MetricStoreHooks = {}): MetricStore {
  const globalLogged = new Map<string, number>()
  const onSeriesLimit = (machineId: string, limit: number): void => { log.warn({ machineId, limit }, 'machine reached its series bound; points of new series are dropped') }
  const onGlobalSeriesLimit = (machineId: string, limit: number, dropped: number): void => {
    hooks.onSeriesDropped?.(dropped)
    const now = Date.now()
    if ((globalLogged.get(machineId) ?? 0) > now - 60_000) return
    if (globalLogged.size > 10_000) globalLogged.clear()
    globalLogged.set(machineId, now)
    log.warn({ machineId, limit, dropped }, 'the collector holds VIGIE_MAX_SERIES_TOTAL series; points of new series are dropped (logged once a minute per machine)')
  }
  if (config.metricStore === 'influx') {
    return new InfluxMetricStore({
      url: config.influxUrl!,
      database: config.influxDatabase,
      outbox: new MetricOutbox(db),
      series: new SeriesRegistry(db, { maxPerMachine: config.maxSeriesPerMachine, maxTotal: config.maxSeriesTotal, onMachineLimit: onSeriesLimit, onGlobalLimit: onGlobalSeriesLimit }),
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
    onSeriesLimit,
    maxSeriesTotal: config.maxSeriesTotal,
    onGlobalSeriesLimit
  })
}
