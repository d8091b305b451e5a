/** The audit log contract on the SQLite store: a real database file in a temp folder. */
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteAuditLog } from '../../../collector/audit/sqlite-audit-log.js'
import { tempDir } from '../../helpers/app.js'
import { auditLogContract } from './contract.js'

auditLogContract(t, async (opts) => {
  const dir = tempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return {
    log: new SqliteAuditLog(db, opts),
    close: async () => { db.close(); fs.rmSync(dir, { recursive: true, force: true }) }
  }
})
