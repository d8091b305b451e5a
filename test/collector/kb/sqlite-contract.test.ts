/** The knowledge-base repository contract on the SQLite store (FTS5): a real database file in a temp folder. */
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteKbStore } from '../../../collector/kb/sqlite-store.js'
import { tempDir } from '../../helpers/app.js'
import { kbRepositoryContract } from './contract.js'

kbRepositoryContract(t, async () => {
  const dir = tempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return { store: new SqliteKbStore(db), close: async () => { db.close(); fs.rmSync(dir, { recursive: true, force: true }) } }
})
