/**
 * The (agent, seq) ledger that makes storage exactly-once is pruned with the raw
 * retention; an agent resending a report whose ledger entry was pruned must still
 * get "duplicate", never a second copy.
 */
import t from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { AgentDirectory } from '../../../collector/agents/directory.js'
import { SqliteAgentStore } from '../../../collector/agents/sqlite-store.js'
import { Registry } from '../../../collector/store/sqlite/registry.js'
import { makeReport } from '../../helpers/reports.js'

t.test('a resend of a report whose ledger entry was pruned is a duplicate; newer reports are stored', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const registry = new Registry(db, new SqliteMetricStore(db))
  const agents = new AgentDirectory(new SqliteAgentStore(db))
  const { agentId } = await agents.enroll({ hostname: 'pc-1' })
  const t0 = Date.now() - 40 * 86_400_000
  const sent = [1, 2, 3].map(seq => makeReport(agentId, seq))
  const r = registry.ingest(agentId, sent, t0)
  t.same(r.stored, [1, 2, 3])
  // A resend is the same report again (from the agent's spool).
  t.same(registry.ingest(agentId, [sent[2]], t0 + 1000).duplicates, [3], 'known seq: duplicate (ledger)')
  t.equal(registry.pruneLedger(t0 + 60_000), 3, 'the three old entries are pruned')
  t.equal(registry.countStoredReports(agentId), 0)
  const again = registry.ingest(agentId, [makeReport(agentId, 2), makeReport(agentId, 4)], Date.now())
  t.same(again.duplicates, [2], 'a pruned seq is still recognised')
  t.same(again.stored, [4], 'a new seq is stored')
})

t.test('a seq far above the ledger is refused, so it cannot blind the machine once the ledger is pruned', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const registry = new Registry(db, new SqliteMetricStore(db))
  const agents = new AgentDirectory(new SqliteAgentStore(db))
  const { agentId } = await agents.enroll({ hostname: 'pc-max' })
  const t0 = Date.now() - 40 * 86_400_000
  t.same(registry.ingest(agentId, [1, 2].map(seq => makeReport(agentId, seq)), t0).stored, [1, 2])
  t.throws(() => registry.ingest(agentId, [makeReport(agentId, Number.MAX_SAFE_INTEGER)], t0 + 1000), { code: 'VIGIE_ERR_SEQ_JUMP' }, 'seq 2^53-1 refused')
  t.equal(registry.countStoredReports(agentId), 2, 'nothing of the refused batch stored')
  registry.pruneLedger(Date.now())
  t.same(registry.ingest(agentId, [makeReport(agentId, 3)], Date.now()).stored, [3], 'after pruning, the next report is stored, not a duplicate')
})

t.test('a different report under a stored seq is refused; the stored one is kept', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const registry = new Registry(db, new SqliteMetricStore(db))
  const agents = new AgentDirectory(new SqliteAgentStore(db))
  const { agentId } = await agents.enroll({ hostname: 'pc-conflict' })
  const first = makeReport(agentId, 1, { atMs: Date.now() - 5000, metrics: [{ name: 'cpu.usage', unit: 'percent', value: 10 }] })
  t.same(registry.ingest(agentId, [first], Date.now()).stored, [1])
  const other = { ...first, metrics: [{ name: 'cpu.usage', unit: 'percent' as const, value: 11 }] }
  t.throws(() => registry.ingest(agentId, [makeReport(agentId, 2), other], Date.now()), { code: 'VIGIE_ERR_SEQ_CONFLICT', path: '/reports/1/seq' })
  t.equal(registry.countStoredReports(agentId), 1, 'the batch with the conflict stored nothing')
  t.same(registry.ingest(agentId, [first], Date.now()).duplicates, [1], 'the identical resend is still a duplicate')
})
