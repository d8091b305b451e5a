/**
 * A machine's latest values are checkpointed at most every LATEST_CHECKPOINT_MS
 * while it reports (rewriting them with every report was a third of the store's
 * ingest time). What a technician must never notice: after a crash or a restart
 * the fleet list shows the values of the machine's last stored report.
 */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { AgentDirectory } from '../../../collector/agents/directory.js'
import { SqliteAgentStore } from '../../../collector/agents/sqlite-store.js'
import { LATEST_CHECKPOINT_MS, Registry } from '../../../collector/store/sqlite/registry.js'
import { makeReport } from '../../helpers/reports.js'
import { tempDir } from '../../helpers/temp.js'

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0)

function open (file: string): { registry: Registry, agents: AgentDirectory, close: () => void, db: ReturnType<typeof openDb> } {
  const db = openDb(file)
  const registry = new Registry(db, new SqliteMetricStore(db))
  return { registry, agents: new AgentDirectory(new SqliteAgentStore(db)), db, close: () => { db.close() } }
}

const metricsWith = (load: number) => [
  { name: 'cpu.load_pct', unit: 'percent' as const, value: load },
  { name: 'fs.used_pct', unit: 'percent' as const, value: 40 + load / 10, labels: { mount: '/' } }
]

t.test('after a crash between checkpoints the latest values are those of the last stored report', async t => {
  const dir = tempDir(t, 'vigie-latest-')
  const file = path.join(dir, 'vigie.db')
  const a = open(file)
  const { agentId } = await a.agents.enroll({ hostname: 'pc-1' }, T0)
  a.registry.ingest(agentId, [makeReport(agentId, 1, { atMs: T0, metrics: metricsWith(10) })], T0)
  const row = () => a.db.prepare('SELECT last_seq FROM machines WHERE id = ?').pluck().get(agentId) as number
  const checkpointed = () => JSON.parse(a.db.prepare('SELECT latest_json FROM machine_latest WHERE machine_id = ?').pluck().get(agentId) as string) as Array<{ value: number }>
  t.equal(checkpointed()[0].value, 10, 'the first report is checkpointed at once')
  a.registry.ingest(agentId, [makeReport(agentId, 2, { atMs: T0 + 10_000, metrics: metricsWith(77) })], T0 + 10_000)
  t.equal(checkpointed()[0].value, 10, 'a report within the checkpoint interval is not rewritten')
  t.equal(row(), 1, 'nor is the machine row, when only times and seq changed')
  t.equal(a.registry.getMachine(agentId)!.latest[0].value, 77, 'while running, the newest values are served')
  a.close() // no flush: the process died

  const b = open(file)
  t.teardown(b.close)
  const m = b.registry.getMachine(agentId)!
  t.same(m.latest, metricsWith(77), 'rebuilt from the stored frame after the crash, names, labels and units included')
  t.equal(m.lastSeq, 2, 'the last seq is recovered from the ledger (the row was not rewritten for report 2)')
  t.equal(m.lastSeenMs, T0 + 10_000, 'so is the time it was last seen')
  t.same(b.registry.listMachines().find(x => x.id === agentId)!.latest, metricsWith(77), 'the fleet list (loaded at start) agrees')
})

t.test('a checkpoint is written again once the interval has passed, and for quiet machines by flushLatest', async t => {
  const a = open(':memory:')
  t.teardown(a.close)
  const { agentId } = await a.agents.enroll({ hostname: 'pc-2' }, T0)
  const read = () => JSON.parse(a.db.prepare('SELECT latest_json FROM machine_latest WHERE machine_id = ?').pluck().get(agentId) as string) as Array<{ value: number }>
  a.registry.ingest(agentId, [makeReport(agentId, 1, { atMs: T0, metrics: metricsWith(1) })], T0)
  a.registry.ingest(agentId, [makeReport(agentId, 2, { atMs: T0 + 1000, metrics: metricsWith(2) })], T0 + 1000)
  t.equal(read()[0].value, 1)
  a.registry.ingest(agentId, [makeReport(agentId, 3, { atMs: T0 + LATEST_CHECKPOINT_MS, metrics: metricsWith(3) })], T0 + LATEST_CHECKPOINT_MS)
  t.equal(read()[0].value, 3, 'written when the previous checkpoint is old enough')
  a.registry.ingest(agentId, [makeReport(agentId, 4, { atMs: T0 + LATEST_CHECKPOINT_MS + 1000, metrics: metricsWith(4) })], T0 + LATEST_CHECKPOINT_MS + 1000)
  t.equal(a.registry.flushLatest(LATEST_CHECKPOINT_MS, T0 + LATEST_CHECKPOINT_MS + 2000), 0, 'not yet due')
  t.equal(a.registry.flushLatest(LATEST_CHECKPOINT_MS, T0 + 2 * LATEST_CHECKPOINT_MS + 1000), 1, 'the quiet machine is written')
  t.equal(read()[0].value, 4)
  t.equal(a.registry.flushLatest(0, T0 + 3 * LATEST_CHECKPOINT_MS), 0, 'nothing left to write')
})

t.test('changed host facts are written at once, also when they change back; a new metric layout is served with its own names and labels', async t => {
  const a = open(':memory:')
  t.teardown(a.close)
  const { agentId } = await a.agents.enroll({ hostname: 'pc-3' }, T0)
  const hostname = () => a.db.prepare('SELECT hostname FROM machines WHERE id = ?').pluck().get(agentId) as string
  const report = (seq: number, host: string, metrics: ReturnType<typeof metricsWith>) => {
    const r = makeReport(agentId, seq, { atMs: T0 + seq * 1000, metrics })
    r.host = { ...r.host, hostname: host }
    return r
  }
  a.registry.ingest(agentId, [report(1, 'pc-3', metricsWith(1))], T0 + 1000)
  a.registry.ingest(agentId, [report(2, 'pc-3-renamed', metricsWith(2))], T0 + 2000)
  t.equal(hostname(), 'pc-3-renamed', 'a rename within the checkpoint interval is in the row at once')
  a.registry.ingest(agentId, [report(3, 'pc-3', metricsWith(3))], T0 + 3000)
  t.equal(hostname(), 'pc-3', 'and so is the rename back')
  t.equal(a.registry.getMachine(agentId)!.hostname, 'pc-3')

  const moved = [
    { name: 'cpu.load_pct', unit: 'percent' as const, value: 5 },
    { name: 'fs.used_pct', unit: 'percent' as const, value: 91, labels: { mount: '/data' } }
  ]
  a.registry.ingest(agentId, [report(4, 'pc-3', moved)], T0 + 4000)
  t.same(a.registry.getMachine(agentId)!.latest, moved, 'the new labels, not the previous layout')
  moved[1].labels!.mount = '/changed-after-ingest'
  moved[1].value = 0
  t.same(a.registry.getMachine(agentId)!.latest[1], { name: 'fs.used_pct', unit: 'percent', value: 91, labels: { mount: '/data' } }, 'what was stored does not follow later changes to the report objects')
  const served = a.registry.getMachine(agentId)!.latest
  served[0].value = -1
  t.equal(a.registry.getMachine(agentId)!.latest[0].value, 5, 'nor changes a reader makes to what it was served')
})
