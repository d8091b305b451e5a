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
import { Type } from 'typebox'
import type { Finding } from './engine.js'
import { DetectionClient } from './remote.js'
import type { AcceptedReports } from '../ingest/events.js'
import { migrate } from '../store/sqlite/db.js'
import { VigieError } from '../core/errors.js'

const MIGRATIONS = [
  'CREATE TABLE detect_state (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL)',
  `CREATE TABLE detect_machine (machine_id TEXT PRIMARY KEY, saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE detect_global (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL);
   CREATE TABLE anomaly_log (
     id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, at_ms INTEGER NOT NULL, series TEXT NOT NULL,
     state TEXT NOT NULL, title TEXT NOT NULL, evidence_json TEXT NOT NULL);
   CREATE INDEX anomaly_log_machine ON anomaly_log(machine_id, at_ms);
   DROP TABLE detect_state;`
]

/** Machines serialised per slice before yielding to the event loop. */
const SAVE_SLICE = 50
/** Anomaly hints kept this long. */
const ANOMALY_LOG_DAYS = 30

declare module 'fastify' {
  interface FastifyInstance {
    detection: DetectionClient
    /** resolves when every report handed to detection so far is observed and its findings applied to incidents */
    findingsSettled: () => Promise<void>
  }
}

export const detectPlugin = fp(async (app) => {
  const { db, config, incidents } = app
  migrate(db, { name: 'detect_state', sql: MIGRATIONS })

  const insertAnomaly = db.prepare('INSERT INTO anomaly_log (machine_id, at_ms, series, state, title, evidence_json) VALUES (?, ?, ?, ?, ?, ?)')
  /** Learned anomalies at info go to the machine's hint log and the live socket; everything else to incidents. */
  const route = (findings: Finding[]): void => {
    const forIncidents: Finding[] = []
    for (const f of findings) {
      if (f.kind === 'anomaly' && f.severity === 'info') {
        try {
          insertAnomaly.run(f.machineId, f.atMs, f.series ?? '', f.state, f.title, JSON.stringify(f.evidence))
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
      restore()
    }
  })
  /** Sends the saved state to the engine; returns how many machines had some. */
  const restore = (): number => {
    const rows = db.prepare('SELECT machine_id, state_json FROM detect_machine').all() as Array<{ machine_id: string, state_json: string }>
    const global = db.prepare('SELECT state_json FROM detect_global WHERE id = 1').pluck().get() as string | undefined
    engine.importState(rows.map(r => [r.machine_id, r.state_json]), global, app.now())
    return rows.length
  }
  const restored = restore()
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
  const upsertMachine = db.prepare('INSERT INTO detect_machine (machine_id, saved_ms, state_json) VALUES (?, ?, ?) ON CONFLICT(machine_id) DO UPDATE SET saved_ms = excluded.saved_ms, state_json = excluded.state_json')
  const upsertGlobal = db.prepare('INSERT INTO detect_global (id, saved_ms, state_json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET saved_ms = excluded.saved_ms, state_json = excluded.state_json')

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
        db.transaction(() => {
          for (const [id, json] of state.machines) upsertMachine.run(id, now, json)
          if (state.global !== undefined) upsertGlobal.run(now, state.global)
        })()
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
    db.prepare('DELETE FROM anomaly_log WHERE at_ms < ?').run(app.now() - ANOMALY_LOG_DAYS * 86_400_000)
  }, Math.max(1000, Math.min(config.detectSaveSec * 1000, 10_000)))
  saver.unref()

  app.get('/api/v1/machines/:id/anomalies', {
    onRequest: app.requireRole('viewer'),
    schema: {
      summary: "The machine's learned-baseline anomalies (hints, not incidents), newest first",
      tags: ['machines'],
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) })
    }
  }, async (request) => {
    const { id } = request.params as { id: string }
    if (app.registry.getMachine(id) === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no machine ${id}`)
    const limit = (request.query as { limit?: number }).limit ?? 50
    const rows = db.prepare('SELECT at_ms, series, state, title, evidence_json FROM anomaly_log WHERE machine_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?')
      .all(id, limit) as Array<{ at_ms: number, series: string, state: string, title: string, evidence_json: string }>
    return { machineId: id, items: rows.map(r => ({ at: new Date(r.at_ms).toISOString(), series: r.series, state: r.state, title: r.title, evidence: JSON.parse(r.evidence_json) as unknown })) }
  })

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
