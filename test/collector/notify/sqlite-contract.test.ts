/** The webhook repository contract on the SQLite store: a real database file in a temp folder. */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteWebhookStore } from '../../../collector/notify/sqlite-store.js'
import { ownedTempDir, removeDir } from '../../helpers/temp.js'
import { webhookRepositoryContract } from './contract.js'

webhookRepositoryContract(t, async () => {
  const dir = ownedTempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return { store: new SqliteWebhookStore(db), close: async () => { db.close(); removeDir(dir) } }
})
