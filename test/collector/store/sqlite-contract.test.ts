// The MetricStore contract against the embedded SQLite store.
import t from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { runMetricStoreContract } from './contract.js'

runMetricStoreContract(t, 'sqlite', async (tt, { rawRetentionDays, maxSeriesPerMachine, maxSeriesTotal, onSeriesLimit, onGlobalSeriesLimit }) => {
  const db = openDb(':memory:')
  tt.teardown(() => { db.close() })
  const store = new SqliteMetricStore(db, { retentionDays: rawRetentionDays, maxSeriesPerMachine, maxSeriesTotal, onSeriesLimit, onGlobalSeriesLimit })
  return { store, settle: async () => {} }
})
