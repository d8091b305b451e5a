/**
 * The (agent, seq) ledger that makes storage exactly-once is pruned with the raw
 * retention; an agent resending a report whose ledger entry was pruned must still
 * get "duplicate", never a second copy.
 */
import t from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { Registry } from '../../../collector/store/sqlite/registry.js'
import { makeReport } from '../../helpers/reports.js'

t.test('a resend of a report whose ledger entry was pruned is a duplicate; newer reports are stored', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const registry = new Registry(db, new SqliteMetricStore(db))
  const { agentId } = registry.enrollAgent({ hostname: 'pc-1' })
  const t0 = Date.now() - 40 * 86_400_000
  const r = registry.ingest(agentId, [1, 2, 3].map(seq => makeReport(agentId, seq)), t0)
  t.same(r.stored, [1, 2, 3])
  t.same(registry.ingest(agentId, [makeReport(agentId, 3)], t0 + 1000).duplicates, [3], 'known seq: duplicate (ledger)')
  t.equal(registry.pruneLedger(t0 + 60_000), 3, 'the three old entries are pruned')
  t.equal(registry.countStoredReports(agentId), 0)
  const again = registry.ingest(agentId, [makeReport(agentId, 2), makeReport(agentId, 4)], Date.now())
  t.same(again.duplicates, [2], 'a pruned seq is still recognised')
  t.same(again.stored, [4], 'a new seq is stored')
})
