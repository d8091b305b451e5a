/**
 * The collector's data folder fills up: ingest is refused with 503
 * VIGIE_ERR_STORE_UNAVAILABLE "the collector disk is full" and Retry-After,
 * nothing half-stored, and it recovers by itself when space returns.
 * Uses a real full filesystem (a small tmpfs) when this process may mount one
 * (root with CAP_SYS_ADMIN, as on CI); otherwise SQLite's max_page_count.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { testApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'
import { makeReport } from '../helpers/reports.js'

function tryMountTmpfs (dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

t.test('a full disk refuses ingest with a clear error and recovers when space returns', async t => {
  const mountDir = tempDir(t, 'vigie-full-')
  const mounted = tryMountTmpfs(mountDir, '3m')
  t.comment(mounted ? 'real full filesystem: 3 MiB tmpfs' : 'cannot mount here: falling back to SQLite max_page_count')
  const dataDir = path.join(mountDir, 'data')
  const h = await testApp({ config: { dataDir, rateLimitAgentPerMin: 0, rateLimitIpPerMin: 0 } })
  t.teardown(async () => {
    await h.close().catch(() => {})
    if (mounted) execFileSync('umount', [mountDir])
  })
  const { agentId, token } = await h.enroll('full-pc')
  const post = (seqs: number[]) => h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: seqs.map(s => makeReport(agentId, s, { atMs: Date.now() - 100_000 + s })) } })
  t.equal((await post([1, 2, 3])).statusCode, 200, 'ingest works before the disk fills')

  const filler = path.join(mountDir, 'filler')
  if (mounted) {
    const fd = fs.openSync(filler, 'w')
    const chunk = Buffer.alloc(64 * 1024, 1)
    try { for (;;) fs.writeSync(fd, chunk) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err }
    // Leave nothing: small writes can still fit in the last partial blocks, so fill byte-wise too.
    try { for (;;) fs.writeSync(fd, Buffer.alloc(512, 1)) } catch { /* full */ }
    fs.closeSync(fd)
  } else {
    const pages = (h.app.db.pragma('page_count', { simple: true }) as number)
    h.app.db.pragma(`max_page_count = ${pages}`)
  }

  let refused
  let seq = 4
  const before = h.app.registry.countStoredReports(agentId)
  for (let i = 0; i < 50 && refused === undefined; i++) {
    const seqs = Array.from({ length: 200 }, () => seq++)
    const res = await post(seqs)
    if (res.statusCode === 503) refused = { res, seqs }
    else t.equal(res.statusCode, 200)
  }
  t.ok(refused, 'ingest is refused once the disk is full')
  const body = refused!.res.json()
  t.equal(body.code, 'VIGIE_ERR_STORE_UNAVAILABLE')
  t.match(body.message, /the collector disk is full/)
  t.equal(refused!.res.headers['retry-after'], '30')
  const stored = h.app.db.prepare(`SELECT COUNT(*) AS n FROM reports WHERE agent_id = ? AND seq >= ?`).get(agentId, refused!.seqs[0]) as { n: number }
  t.equal(stored.n, 0, 'nothing of the refused batch is stored')
  t.ok(h.app.registry.countStoredReports(agentId) >= before)
  t.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200, 'the collector stays up')

  if (mounted) fs.rmSync(filler)
  else h.app.db.pragma('max_page_count = 1073741823')
  const retry = await post(refused!.seqs)
  t.equal(retry.statusCode, 200, 'the same batch is accepted once space returns')
  t.same(retry.json().stored, refused!.seqs, 'all of it, stored once')
})
