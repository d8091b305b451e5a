/**
 * A damaged database. Pages of a real SQLite file overwritten with garbage: a real
 * collector process still starts (so /healthz and /readyz can tell), and /readyz
 * answers 503 naming the failed integrity check. A file that is not a database at
 * all: the collector refuses to start, naming the file. The size bound of the
 * check (VIGIE_INTEGRITY_CHECK_MAX_MB) at its limit. (Before: /readyz said ready
 * with a database failing its integrity check.)
 */
import t from 'tap'
import Database from 'better-sqlite3'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { buildApp } from '../../collector/app.js'
import { DbOpenError, integrityOf, openDb } from '../../collector/store/sqlite/db.js'
import { AgentDirectory } from '../../collector/agents/directory.js'
import { SqliteAgentStore } from '../../collector/agents/sqlite-store.js'
import { Registry } from '../../collector/store/sqlite/registry.js'
import { EnrollTokens } from '../../collector/agents/enroll-tokens.js'
import { SqliteEnrollTokenStore } from '../../collector/agents/sqlite-enroll-tokens.js'
import { SqliteMetricStore } from '../../collector/store/sqlite/metrics.js'
import { tempDir } from '../helpers/temp.js'
import { spawnCollector, startProcess } from '../helpers/processes.js'
import { waitFor } from '../helpers/wait.js'

/** A real collector database (the registry's schema and rows: 50 machines, 300 enrollment tokens), closed cleanly. */
async function realDb (t: { teardown: (fn: () => void) => void }): Promise<string> {
  const dataDir = tempDir(t, 'vigie-corrupt-')
  const file = path.join(dataDir, 'vigie.db')
  const db = openDb(file)
  void new Registry(db, new SqliteMetricStore(db))
  const agents = new AgentDirectory(new SqliteAgentStore(db))
  for (let i = 0; i < 50; i++) await agents.enroll({ hostname: `pc-${i}`, machineKey: `key-${i}` })
  const enrollTokens = new EnrollTokens(new SqliteEnrollTokenStore(db))
  for (let i = 0; i < 300; i++) await enrollTokens.create({ name: `batch ${i}` })
  db.close()
  return file
}

/** Overwrites the pages of the enrollment-token table (not read at start) with random bytes. */
function corruptSamples (file: string): number[] {
  const db = new Database(file, { readonly: true })
  const pageSize = db.pragma('page_size', { simple: true }) as number
  const hit = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'enroll_tokens' ORDER BY pageno").all() as Array<{ pageno: number }>).map(r => r.pageno)
  db.close()
  const fd = fs.openSync(file, 'r+')
  for (const p of hit) fs.writeSync(fd, crypto.randomBytes(pageSize), 0, pageSize, (p - 1) * pageSize)
  fs.closeSync(fd)
  return hit
}

t.test('a real collector on a database with damaged pages starts, /healthz answers, /readyz says not ready and why', async t => {
  const file = await realDb(t)
  const hit = corruptSamples(file)
  t.ok(hit.length >= 1 && hit.every(p => p > 1), `pages ${hit.join(', ')} of the enroll_tokens table overwritten`)
  const c = await spawnCollector({ dataDir: path.dirname(file) })
  t.teardown(async () => { await c.stop() })
  t.equal((await fetch(`${c.url}/healthz`)).status, 200, 'alive')
  const res = await fetch(`${c.url}/readyz`)
  t.equal(res.status, 503, 'not ready')
  const body = await res.json() as { status: string, reason: string, checks: { integrity: { ok: boolean, state: string } } }
  t.equal(body.status, 'degraded')
  t.match(body.checks.integrity, { ok: false, state: 'failed', detail: /\S/ })
  t.match(body.reason, /the collector's database \(vigie\.db\) failed its integrity check at start/)
  t.notOk(body.reason.includes(path.dirname(file)), 'no absolute path to an unauthenticated client')
  t.match(c.output(), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} FAILED its integrity check`), 'the log names the full path')
})

t.test('a file that is not a database: the collector refuses to start, naming the file', async t => {
  const dataDir = tempDir(t, 'vigie-notadb-')
  const file = path.join(dataDir, 'vigie.db')
  fs.writeFileSync(file, crypto.randomBytes(64 * 1024))
  await t.rejects(buildApp({ logger: false, config: { dataDir }, env: {} }), { name: 'DbOpenError', code: 'SQLITE_NOTADB', file })
  const p = startProcess('collector/main.ts', [], { VIGIE_DATA_DIR: dataDir, VIGIE_PORT: '0' })
  t.teardown(async () => { await p.stop() })
  const code = await waitFor(() => p.proc.exitCode ?? undefined, { what: 'collector to exit', timeoutMs: 30_000 })
  t.equal(code, 1)
  t.match(p.output(), `vigie-collector: cannot open the database ${file} (SQLITE_NOTADB`)
  t.match(p.output(), /restore it from a backup, or move it aside/)
})

t.test('the integrity check runs for a database at the size bound and is skipped one byte over', async t => {
  const file = await realDb(t)
  corruptSamples(file)
  const size = fs.statSync(file).size
  const at = openDb(file, { integrityCheckMaxBytes: size })
  t.equal(integrityOf(at)?.state, 'failed', 'at the bound: checked, the damage is found')
  t.equal(integrityOf(at)?.sizeBytes, size)
  at.close()
  const over = openDb(file, { integrityCheckMaxBytes: size - 1 })
  t.equal(integrityOf(over)?.state, 'skipped', 'one byte over: skipped')
  t.match(integrityOf(over)?.detail, /over VIGIE_INTEGRITY_CHECK_MAX_MB/)
  over.close()
  const off = openDb(file, { integrityCheckMaxBytes: 0 })
  t.equal(integrityOf(off)?.state, 'skipped', '0: never checked')
  off.close()
  t.ok(new DbOpenError(file, Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })).message.includes(file), 'open errors name the file')
})

t.test('an intact database passes the check', async t => {
  const file = await realDb(t)
  const db = openDb(file, { integrityCheckMaxBytes: 512 * 1048576 })
  t.equal(integrityOf(db)?.state, 'ok')
  db.close()
})
