/** The audit log contract on the SQLite store: a real database file in a temp folder. */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteAuditLog } from '../../../collector/audit/sqlite-audit-log.js'
import { ownedTempDir, removeDir } from '../../helpers/temp.js'
import { auditLogContract } from './contract.js'

auditLogContract(t, async (opts) => {
  const dir = ownedTempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return {
    log: new SqliteAuditLog(db, opts),
    close: async () => { db.close(); removeDir(dir) }
  }
})
