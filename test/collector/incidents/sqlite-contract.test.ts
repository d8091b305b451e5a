/**
 * The incident repository contract on the SQLite store (a real database file in a
 * temp folder), and what only the embedded store does: a transaction that awaits
 * other I/O is committed, then reported.
 */
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteIncidentStore } from '../../../collector/incidents/sqlite-store.js'
import { tempDir } from '../../helpers/app.js'
import { incidentRepositoryContract, incidentRow } from './contract.js'

function open (): { store: SqliteIncidentStore, close: () => Promise<void> } {
  const dir = tempDir()
  const db = openDb(path.join(dir, 'vigie.db'))
  return { store: new SqliteIncidentStore(db), close: async () => { db.close(); fs.rmSync(dir, { recursive: true, force: true }) } }
}

incidentRepositoryContract(t, async () => open())

t.test('SQLite: a transaction that awaits a turn of the event loop is committed (nothing that ran meanwhile is undone), then rejected with a clear error', async t => {
  const u = open()
  t.teardown(u.close)
  const row = incidentRow({ key: 'awaited-io' })
  await t.rejects(u.store.transaction(async () => {
    await u.store.insert(row)
    // On purpose, not a sleep: awaiting anything but the store lets the event loop turn
    // (other requests could write inside the transaction), which is what is rejected.
    // setImmediate is the smallest such turn, as a timer or a socket would be, without waiting.
    await new Promise(resolve => setImmediate(resolve))
  }), /awaited I\/O other than its store/)
  t.ok(await u.store.get(row.id), 'committed')
  await u.store.transaction(async () => { await u.store.addTimeline(row.id, 1, 'opened') })
  t.equal((await u.store.timeline(row.id)).length, 1, 'the next transaction runs normally')
})
