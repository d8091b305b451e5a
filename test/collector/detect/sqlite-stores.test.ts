/** The detection stores' contracts on SQLite: a real database file in a temp folder. */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteAnomalyLog, SqliteDetectionStateStore } from '../../../collector/detect/sqlite-stores.js'
import { ownedTempDir, removeDir } from '../../helpers/temp.js'
import { anomalyLogContract, detectionStateContract } from './contracts.js'

async function onSqlite<T> (make: (db: ReturnType<typeof openDb>) => T): Promise<{ store: T, close: () => Promise<void> }> {
  const dir = ownedTempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return { store: make(db), close: async () => { db.close(); removeDir(dir) } }
}

t.test('detection state', async t => { detectionStateContract(t, async () => await onSqlite(db => new SqliteDetectionStateStore(db))) })
t.test('anomaly log', async t => { anomalyLogContract(t, async () => await onSqlite(db => new SqliteAnomalyLog(db))) })
t.test('both on one database share its tables', async t => {
  const u = await onSqlite(db => ({ state: new SqliteDetectionStateStore(db), log: new SqliteAnomalyLog(db) }))
  t.teardown(u.close)
  await u.store.state.save(1, { machines: [['m', '{}']] })
  t.same((await u.store.state.load()).machines, [['m', '{}']])
  t.same(await u.store.log.list('m', 1), [])
})
