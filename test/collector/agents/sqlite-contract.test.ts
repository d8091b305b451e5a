/** The agent repository contract on the SQLite store: a real database file in a temp folder, migrated as the collector does. */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { Registry } from '../../../collector/store/sqlite/registry.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { SqliteAgentStore } from '../../../collector/agents/sqlite-store.js'
import { ownedTempDir, removeDir } from '../../helpers/temp.js'
import { agentRepositoryContract } from './contract.js'

agentRepositoryContract(t, async () => {
  const dir = ownedTempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  void new Registry(db, new SqliteMetricStore(db))
  return { store: new SqliteAgentStore(db), close: async () => { db.close(); removeDir(dir) } }
})
