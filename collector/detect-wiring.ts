/**
 * Feeds the detection engine and hands its findings to incidents: every stored
 * report (from `events.on('reports')`) and a periodic tick (offline silence,
 * fleet outliers, change correlation). The engine's state is saved to SQLite
 * periodically and on close, and restored at start, so a restart neither
 * forgets baselines nor re-opens what is already open. Also registers the
 * machine status provider (worst active incident, expected silence).
 */
import type { FastifyInstance } from 'fastify'
import { DetectionEngine, type Finding } from './detect/engine.js'
import type { AcceptedReports } from './events.js'
import { migrate } from './store/sqlite/db.js'
import type { Vigie } from './vigie.js'

const MIGRATIONS = [
  'CREATE TABLE detect_state (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL)'
]

export async function detectWiring (app: FastifyInstance, opts: { vigie: Vigie }): Promise<void> {
  const { vigie } = opts
  const incidents = vigie.incidents
  if (incidents === undefined) throw new Error('detectWiring needs the incidents plugin registered first')
  const { db, config } = vigie
  migrate(db, { name: 'detect_state', sql: MIGRATIONS })

  const engine = new DetectionEngine({ now: vigie.now })
  const row = db.prepare('SELECT saved_ms, state_json FROM detect_state WHERE id = 1').get() as { saved_ms: number, state_json: string } | undefined
  if (row !== undefined) {
    try {
      engine.importState(JSON.parse(row.state_json))
      app.log.info({ savedAt: new Date(row.saved_ms).toISOString(), series: engine.seriesCount }, 'detection state restored')
    } catch (err) {
      app.log.warn({ err }, 'detection state unreadable; starting fresh')
    }
  }
  vigie.detection = engine

  const silenceExpected = (engine as unknown as { silenceExpected?: (machineId: string, nowMs: number) => boolean | undefined }).silenceExpected
  vigie.status.setProvider({
    worstSeverity: (machineId) => incidents.worstSeverity(machineId),
    worstAll: () => incidents.worstAll(),
    ...(typeof silenceExpected === 'function' ? { silenceExpected: (machineId: string, nowMs: number) => silenceExpected.call(engine, machineId, nowMs) } : {})
  })

  let dirty = false
  const save = (): void => {
    if (!dirty) return
    try {
      db.prepare('INSERT INTO detect_state (id, saved_ms, state_json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET saved_ms = excluded.saved_ms, state_json = excluded.state_json')
        .run(vigie.now(), JSON.stringify(engine.exportState()))
      dirty = false
    } catch (err) {
      app.log.warn({ err }, 'detection state not saved')
    }
  }

  const onReports = (batch: AcceptedReports): void => {
    const findings: Finding[] = []
    for (const { report, atMs } of batch.accepted) {
      try {
        // the registry corrected the sample time for clock skew; detect on the corrected time
        const r = Date.parse(report.sampledAt) === atMs ? report : { ...report, sampledAt: new Date(atMs).toISOString() }
        for (const f of engine.observeReport(batch.machineId, r, batch.receivedMs)) findings.push(f)
      } catch (err) {
        app.log.warn({ err, machineId: batch.machineId, seq: report.seq }, 'detection failed on a report')
      }
    }
    dirty = true
    if (findings.length > 0) void incidents.submit(findings)
  }
  vigie.events.on('reports', onReports)

  const tick = setInterval(() => {
    try {
      const findings = engine.tick(vigie.now())
      dirty = true
      if (findings.length > 0) void incidents.submit(findings)
    } catch (err) {
      app.log.warn({ err }, 'detection tick failed')
    }
  }, config.detectTickMs)
  tick.unref()
  const saver = setInterval(save, config.detectSaveSec * 1000)
  saver.unref()

  app.addHook('preClose', async () => {
    vigie.events.off('reports', onReports)
    clearInterval(tick)
    clearInterval(saver)
    await incidents.idle()
    save()
  })
}
