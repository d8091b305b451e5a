/**
 * The stores: the SQLite file (and its checkpointer), the metric store (SQLite
 * or InfluxDB), the registry of agents, tokens and machines, and their
 * retention (raw samples, the seq ledger, inventory history, latest values).
 */
import fp from 'fastify-plugin'
import path from 'node:path'
import { openDb, type Db } from './sqlite/db.js'
import { startCheckpointer } from './sqlite/checkpointer.js'
import { LATEST_CHECKPOINT_MS, Registry } from './sqlite/registry.js'
import { createMetricStore } from './create.js'
import type { MetricStore } from './metric-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
    /** the database file, named in storage errors */
    dbFile: string
    metrics: MetricStore
    registry: Registry
  }
}

export const storePlugin = fp(async (app) => {
  const { config, counters, now } = app
  const dbFile = path.join(config.dataDir, 'vigie.db')
  // ops: data folder 0700, files 0600, integrity check at start (docs/storage.md)
  const db = openDb(dbFile, { integrityCheckMaxBytes: config.integrityCheckMaxMb * 1048576, log: (level, message, fields) => { app.log[level](fields ?? {}, message) } })
  const checkpointer = startCheckpointer(db, dbFile, { onWarn: (message) => { app.log.warn(message) } })
  const metrics = createMetricStore(config, db, app.log, { onSeriesDropped: (n) => { counters.inc('series_dropped_global_cap', n) } })
  const registry = new Registry(db, metrics)
  registry.setInventoryBudget({ maxChangesPerReport: config.inventoryMaxChangesPerReport, maxHistoryPerMachine: config.inventoryMaxHistoryPerMachine })
  app.decorate('db', db)
  app.decorate('dbFile', dbFile)
  app.decorate('metrics', metrics)
  app.decorate('registry', registry)
  await metrics.start()

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

  app.addHook('onClose', async () => {
    clearInterval(pruneTimer)
    clearInterval(latestTimer)
    try { registry.flushLatest(0, now()) } catch (err) { app.log.warn({ err }, 'latest values not checkpointed') }
    await metrics.close()
    await checkpointer.stop()
    db.close()
  })
}, { name: 'vigie-store', dependencies: ['vigie-core'], fastify: '5.x' })
