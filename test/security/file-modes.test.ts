/**
 * File modes of the collector's data: the data folder 0700, the database and its
 * -wal and -shm files 0600 (they hold the fleet's data, token hashes and webhook
 * secrets). Created so, and an existing 0755 folder / 0644 database tightened at
 * start with a log line. (Before: data folder 0755, database 0644: any local user
 * read the webhook secrets and the fleet's data.)
 */
import t from 'tap'
import Database from 'better-sqlite3'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../collector/store/sqlite/db.js'
import { spawnCollector } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'

const mode = (f: string): string => (fs.statSync(f).mode & 0o7777).toString(8)

t.test('a real collector tightens an existing 0755 data folder and 0644 database, and its -wal/-shm are 0600', async t => {
  const root = tempDir(t, 'vigie-modes-')
  const dataDir = path.join(root, 'data')
  // As an earlier version left them: created under umask 022.
  fs.mkdirSync(dataDir, { mode: 0o755 })
  fs.chmodSync(dataDir, 0o755)
  const old = new Database(path.join(dataDir, 'vigie.db'))
  old.pragma('journal_mode = WAL')
  old.exec('CREATE TABLE earlier_data (x)')
  old.close()
  fs.chmodSync(path.join(dataDir, 'vigie.db'), 0o644)
  t.equal(mode(dataDir), '755')
  t.equal(mode(path.join(dataDir, 'vigie.db')), '644')

  const c = await spawnCollector({ dataDir, env: { VIGIE_LOG_LEVEL: 'info' } })
  t.teardown(async () => { await c.stop() })
  t.equal(mode(dataDir), '700', 'data folder 0700')
  for (const f of ['vigie.db', 'vigie.db-wal', 'vigie.db-shm']) {
    t.equal(mode(path.join(dataDir, f)), '600', `${f} 0600`)
  }
  t.match(c.output(), `data folder ${dataDir}: mode tightened from 755 to 700`, 'the folder change is logged')
  t.match(c.output(), `${path.join(dataDir, 'vigie.db')}: mode tightened from 644 to 600`, 'the database change is logged')
  // Everything the collector made in its folder is private.
  for (const f of fs.readdirSync(dataDir)) t.equal(fs.statSync(path.join(dataDir, f)).mode & 0o077, 0, `${f}: no group/other access`)
})

t.test('a new data folder and database are created 0700 / 0600 even under umask 022', async t => {
  const root = tempDir(t, 'vigie-modes-new-')
  const prev = process.umask(0o022)
  t.teardown(() => { process.umask(prev) })
  const dataDir = path.join(root, 'fresh', 'data')
  const db = openDb(path.join(dataDir, 'vigie.db'))
  db.prepare('CREATE TABLE t (x)').run()
  t.equal(mode(dataDir), '700')
  for (const f of ['vigie.db', 'vigie.db-wal', 'vigie.db-shm']) t.equal(mode(path.join(dataDir, f)), '600', `${f} 0600`)
  db.close()
})

t.test('a shared folder (sticky, as /tmp) is never tightened: a warning instead', async t => {
  const shared = tempDir(t, 'vigie-modes-shared-')
  fs.chmodSync(shared, 0o1777)
  const lines: string[] = []
  const db = openDb(path.join(shared, 'vigie.db'), { log: (_level, message) => { lines.push(message) } })
  db.close()
  t.equal(mode(shared), '1777', 'left as it is')
  t.match(lines.join('\n'), /is shared \(mode 1777\); give the collector a folder of its own/)
  t.equal(mode(path.join(shared, 'vigie.db')), '600', 'the database itself is still private')
})
