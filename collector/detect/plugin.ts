/**
 * Feeds the detection engine and hands its findings to incidents: every stored
 * report (from `events.on('reports')`) and a periodic tick (offline silence,
 * fleet outliers, change correlation). Also registers the machine status provider
 * (worst active incident, expected silence).
 *
 * Learned anomalies at `info` severity (the default) are hints, not incidents: a
 * helpdesk cannot act on "network traffic unusual" alone. They go to a per-machine
 * anomaly log (API and live socket), still count for change correlation, and open
 * incidents only when the rules raise their severity.
 *
 * The engine runs in a worker thread (detect/remote.ts): the request path only
 * hands it each report's values, and findings come back a moment later.
 *
 * The engine's state is saved per machine, a slice at a time, so a fleet of
 * 10,000 machines never serialises all its baselines in one go; each machine is
 * saved at most every `detectSaveSec`, all of them on close, and restored at start.
 */
import fp from 'fastify-plugin'
import type { Finding } from './engine.js'
import { DetectionClient } from './remote.js'
import type { AcceptedReports } from '../ingest/events.js'
import { anomalyRoutes } from './routes.js'
import { SqliteAnomalyLog, SqliteDetectionStateStore } from './sqlite-stores.js'
import type { AnomalyLog } from './stores.js'

/** Machines serialised per slice before yielding to the event loop. */
const SAVE_SLICE = 50
/** Anomaly hints kept this long. */
const ANOMALY_LOG_DAYS = 30

declare module 'fastify' {
  interface FastifyInstance {
    detection: DetectionClient
    /** learned anomalies at info: a machine's hints (GET /api/v1/machines/:id/anomalies) */
    anomalyLog: AnomalyLog
    /** resolves when every report handed to detection so far is observed and its findings applied to incidents */
    findingsSettled: () => Promise<void>
  }
}

export const detectPlugin = fp(async (app) => {
  const { db, config, incidents } = app
  const stateStore = new SqliteDetectionStateStore(db)
  const anomalyLog = new SqliteAnomalyLog(db)
  app.decorate('anomalyLog', anomalyLog)
  /** Learned anomalies at info go to the machine's hint log and the live socket; everything else to incidents. */
  const route = (findings: Finding[]): void => {
    const forIncidents: Finding[] = []
    for (const f of findings) {
      if (f.kind === 'anomaly' && f.severity === 'info') {
        try {
          anomalyLog.record(f)
        } catch (err) {
          app.log.warn({ err }, 'anomaly hint not recorded')
        }
        app.events.emit('live', { type: 'anomaly', machineId: f.machineId, atMs: f.atMs, series: f.series, state: f.state, title: f.title })
      } else {
        forIncidents.push(f)
      }
    }
    if (forIncidents.length > 0) void incidents.submit(forIncidents)
  }

  const engine: DetectionClient = new DetectionClient({
    maxSeriesPerMachine: config.maxSeriesPerMachine,
    onFindings: route,
    onWarn: (message, machineId) => { app.log.warn({ machineId }, message) },
    onSkipped: (n) => { app.counters.inc('detection_skipped', n) },
    onRestart: () => {
      app.log.error('detection worker stopped; restarted from the last saved state')
      restore().catch((err: unknown) => { app.log.error({ err }, 'detection state not restored after the restart') })
    }
  })
  /** Sends the saved state to the engine; returns how many machines had some. */
  const restore = async (): Promise<number> => {
    const saved = await stateStore.load()
    engine.importState(saved.machines, saved.global, app.now())
    return saved.machines.length
  }
  const restored = await restore()
  if (restored > 0) app.log.info({ machines: restored }, 'detection state restored')
  app.decorate('detection', engine)
  app.decorate('findingsSettled', async () => {
    await engine.idle()
    await incidents.idle()
  })

  // Dirty machines wait here until their next save slot.
  const dirty = new Set<string>()
  const lastSaved = new Map<string, number>()
  let globalDirty = false

  let saving: Promise<void> | undefined
  /** Saves dirty machines not saved within `minAgeMs`, a slice per event-loop turn. */
  const save = async (minAgeMs: number): Promise<void> => {
    const now = app.now()
    const due = [...dirty].filter(id => now - (lastSaved.get(id) ?? 0) >= minAgeMs)
    for (let i = 0; i < due.length || (i === 0 && globalDirty); i += SAVE_SLICE) {
      const slice = due.slice(i, i + SAVE_SLICE)
      const withGlobal = globalDirty && i + SAVE_SLICE >= due.length
      // Serialised in the engine's thread; only the writes happen here.
      const state = await engine.exportMachines(slice, withGlobal)
      try {
        await stateStore.save(now, state)
        for (const id of slice) { dirty.delete(id); lastSaved.set(id, now) }
        if (state.global !== undefined) globalDirty = false
      } catch (err) {
        app.log.warn({ err }, 'detection state not saved')
        return
      }
      if (minAgeMs > 0) await new Promise(resolve => setImmediate(resolve))
    }
  }

  const onReports = (batch: AcceptedReports): void => {
    // The registry already corrected each sample time for clock skew (atMs): the engine uses it.
    engine.observe(batch.machineId, batch.receivedMs, batch.accepted)
    dirty.add(batch.machineId)
    if (batch.inventoryChanges.length > 0) globalDirty = true
  }
  app.events.on('reports', onReports)

  const tick = setInterval(() => {
    engine.tick(app.now())
    globalDirty = true
    // counted once the tick's findings are in the incidents (tests and operators wait on it)
    void app.findingsSettled().then(() => { app.counters.inc('detection_ticks') }, () => {})
  }, config.detectTickMs)
  tick.unref()
  // Check often, save each machine at most every detectSaveSec: the work is spread out.
  const saver = setInterval(() => {
    if (saving !== undefined) return
    saving = save(config.detectSaveSec * 1000).finally(() => { saving = undefined })
    anomalyLog.prune(app.now() - ANOMALY_LOG_DAYS * 86_400_000).catch((err: unknown) => { app.log.warn({ err }, 'anomaly log not pruned') })
  }, Math.max(1000, Math.min(config.detectSaveSec * 1000, 10_000)))
  saver.unref()

  await app.register(anomalyRoutes)

  app.addHook('preClose', async () => {
    app.events.off('reports', onReports)
    clearInterval(tick)
    clearInterval(saver)
    await engine.idle()
    await incidents.idle()
    await saving
    await save(0)
    await engine.close()
  })
}, { name: 'vigie-detect', dependencies: ['vigie-ingest', 'vigie-incidents'], fastify: '5.x' })
