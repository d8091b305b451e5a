/**
 * Proof for issue 14, "/readyz says ready with a database failing its integrity
 * check" and "database errors do not name the file": the first two checks of
 * test/security/db-integrity.test.ts, with real collector processes, without
 * what the old commit lacks (the DbOpenError class, the in-process buildApp
 * rejection, the size bound of the check, which are new).
 */
import t from 'tap'
import Database from 'better-sqlite3'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../collector/store/sqlite/db.js'
import { AgentDirectory } from '../../collector/agents/directory.js'
import { SqliteAgentStore } from '../../collector/agents/sqlite-store.js'
import { Registry } from '../../collector/store/sqlite/registry.js'
import { EnrollTokens } from '../../collector/agents/enroll-tokens.js'
import { SqliteEnrollTokenStore } from '../../collector/agents/sqlite-enroll-tokens.js'
import { SqliteMetricStore } from '../../collector/store/sqlite/metrics.js'
import { tempDir } from '../helpers/app.js'
import { spawnCollector, startProcess } from '../helpers/processes.js'
import { waitFor } from '../helpers/wait.js'

/** A real collector database (the registry's schema and rows: 50 machines, 300 enrollment tokens), closed cleanly. */
async function realDb (t: { teardown: (fn: () => void) => void }): Promise<string> {
  const dataDir = tempDir('vigie-corrupt-')
  t.teardown(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })
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
  const dataDir = tempDir('vigie-notadb-')
  t.teardown(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })
  const file = path.join(dataDir, 'vigie.db')
  fs.writeFileSync(file, crypto.randomBytes(64 * 1024))
  const p = startProcess('collector/main.ts', [], { VIGIE_DATA_DIR: dataDir, VIGIE_PORT: '0' })
  t.teardown(async () => { await p.stop() })
  const code = await waitFor(() => p.proc.exitCode ?? undefined, { what: 'collector to exit', timeoutMs: 30_000 })
  t.equal(code, 1)
  t.match(p.output(), `vigie-collector: cannot open the database ${file} (SQLITE_NOTADB`)
  t.match(p.output(), /restore it from a backup, or move it aside/)
})
