/**
 * Every write route on a full disk (a real 8 MiB tmpfs holding the data folder):
 * 503 VIGIE_ERR_STORE_UNAVAILABLE with Retry-After and the database named by its
 * file name (the log names the full path), never 500. Reads keep working, /readyz
 * says not ready with the reason, and every route takes writes again once space
 * is freed. (Before: KB create, enrollment-token create and token rotation
 * answered 500 on a full disk; /readyz said ready.)
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { testApp, type TestApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'
import { makeReport } from '../helpers/reports.js'
import { waitFor } from '../helpers/wait.js'

interface Route { name: string, method: 'POST' | 'PUT', url: string, auth: 'admin' | 'agent' | 'none', payload: unknown }

t.test('a full disk answers 503 naming the database on every write route, keeps serving reads, and recovers', async t => {
  const mountDir = tempDir(t, 'vigie-full-routes-')
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountDir])
  const dataDir = path.join(mountDir, 'data')
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l) as Record<string, unknown>); cb() } })
  const h: TestApp = await testApp({ logger: { stream, level: 'warn' }, config: { dataDir, minFreeDiskMb: 1, rateLimitAgentPerMin: 0, rateLimitIpPerMin: 0, webhookAllow: ['127.0.0.1/32'] } })
  const filler = path.join(mountDir, 'filler')
  t.teardown(async () => {
    await h.close().catch(() => {})
    execFileSync('umount', [mountDir])
  })
  const { app } = h
  const admin = { authorization: `Bearer ${h.adminToken}` }
  const agent = await h.enroll('full-pc')
  const inject = async (method: string, url: string, auth: Route['auth'] = 'admin', payload?: unknown) => await app.inject({
    method: method as 'GET',
    url,
    headers: auth === 'admin' ? admin : auth === 'agent' ? { authorization: `Bearer ${agent.token}` } : {},
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {})
  })

  // Things the write routes act on, made while there is space.
  const article = await inject('POST', '/api/v1/kb', 'admin', { title: 'Printer queue stuck' })
  t.equal(article.statusCode, 201)
  const articleId = (article.json() as { id: string }).id
  await app.incidents.submit([{ key: 'rule:disk_full:fs.used_pct{mount="/"}', kind: 'threshold', state: 'open', severity: 'warning', series: 'fs.used_pct{mount="/"}', machineId: agent.agentId, atMs: Date.now(), title: 'Disk / is 92% full', evidence: { value: 92, limit: 90 } }])
  const incidentId = ((await inject('GET', '/api/v1/incidents')).json() as { items: Array<{ id: string }> }).items[0]?.id
  t.ok(incidentId, 'an incident to act on')
  t.equal((await inject('GET', '/readyz', 'none')).statusCode, 200, 'ready while there is space')

  let seq = 1
  let n = 0
  const routes: Array<() => Route> = [
    () => ({ name: 'KB create', method: 'POST', url: '/api/v1/kb', auth: 'admin', payload: { title: `Article ${++n}` } }),
    () => ({ name: 'KB update', method: 'PUT', url: `/api/v1/kb/${articleId}`, auth: 'admin', payload: { title: `Printer queue stuck (${++n})` } }),
    () => ({ name: 'enrollment-token create', method: 'POST', url: '/api/v1/admin/enroll-tokens', auth: 'admin', payload: { name: `batch ${++n}` } }),
    () => ({ name: 'API token create', method: 'POST', url: '/api/v1/admin/tokens', auth: 'admin', payload: { name: `script ${++n}`, role: 'viewer' } }),
    () => ({ name: 'agent token rotation', method: 'POST', url: '/api/v1/agent/rotate', auth: 'agent', payload: {} }),
    () => ({ name: 'user create', method: 'POST', url: '/api/v1/admin/users', auth: 'admin', payload: { username: `tech${++n}`, role: 'technician' } }),
    () => ({ name: 'webhook create', method: 'POST', url: '/api/v1/webhooks', auth: 'admin', payload: { url: 'http://127.0.0.1:9/vigie' } }),
    () => ({ name: 'silence create', method: 'POST', url: '/api/v1/silences', auth: 'admin', payload: { machineId: agent.agentId, until: new Date(Date.now() + 3_600_000).toISOString(), reason: 'maintenance' } }),
    () => ({ name: 'incident acknowledge', method: 'POST', url: `/api/v1/incidents/${incidentId}/acknowledge`, auth: 'admin', payload: {} }),
    () => ({ name: 'incident note', method: 'POST', url: `/api/v1/incidents/${incidentId}/notes`, auth: 'admin', payload: { text: 'looking' } }),
    () => ({ name: 'incident resolve', method: 'POST', url: `/api/v1/incidents/${incidentId}/resolve`, auth: 'admin', payload: { resolution: 'cleaned the temp folder' } }),
    () => ({ name: 'enroll', method: 'POST', url: '/api/v1/enroll', auth: 'none', payload: { enrollToken: h.enrollToken, hostname: `new-pc-${++n}`, agentVersion: '1.0.0' } }),
    () => ({ name: 'reports', method: 'POST', url: '/api/v1/reports', auth: 'agent', payload: { reports: [makeReport(agent.agentId, seq++, { atMs: Date.now() - 60_000 })] } })
  ]

  /** Fills the tmpfs to the last byte, the WAL emptied first so the next commit must grow it. */
  const fill = (): void => {
    app.db.pragma('wal_checkpoint(TRUNCATE)')
    const fd = fs.openSync(filler, 'a')
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 1)
      try { for (;;) fs.writeSync(fd, chunk) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err }
    }
    fs.closeSync(fd)
  }

  fill()
  for (const make of routes) {
    const r = make()
    fill()
    const res = await inject(r.method, r.url, r.auth, r.payload)
    t.equal(res.statusCode, 503, `${r.name}: 503 on a full disk`)
    const body = res.json() as { code: string, message: string }
    t.equal(body.code, 'VIGIE_ERR_STORE_UNAVAILABLE', `${r.name}: stable code`)
    t.match(body.message, /the collector disk is full: the collector's database \(vigie\.db\) failed \(SQLITE_FULL\)/, `${r.name}: the body names the file`)
    t.notOk(body.message.includes(mountDir), `${r.name}: no absolute path in the body`)
    t.equal(res.headers['retry-after'], '30', `${r.name}: Retry-After`)
  }
  const warned = logs.filter(l => l.msg !== undefined && String(l.msg).startsWith('storage failure'))
  t.ok(warned.length >= routes.length, 'each failure is logged')
  t.ok(warned.every(l => l.file === path.join(dataDir, 'vigie.db') && l.code === 'SQLITE_FULL'), 'the log names the full path and the code')

  // Reads keep working; /readyz tells.
  t.equal((await inject('GET', '/api/v1/machines')).statusCode, 200, 'machine list is served on a full disk')
  t.equal((await inject('GET', `/api/v1/kb/${articleId}`)).statusCode, 200, 'KB article is served on a full disk')
  t.equal((await inject('GET', `/api/v1/incidents/${incidentId}`)).statusCode, 200, 'incident is served on a full disk')
  t.equal((await inject('GET', '/healthz', 'none')).statusCode, 200, 'alive')
  const ready = await waitFor(async () => { const r = await inject('GET', '/readyz', 'none'); return r.statusCode === 503 ? r : undefined }, { what: '/readyz not ready', timeoutMs: 5000 })
  const rb = ready.json() as { reason: string, checks: { disk: { ok: boolean, freeBytes: number } } }
  t.match(rb.reason, /the disk of the data folder is \(nearly\) full/, '/readyz names the reason')
  t.equal(rb.checks.disk.ok, false)

  // Space returns: every route writes again, without a restart.
  fs.rmSync(filler)
  for (const make of routes) {
    const r = make()
    const res = await inject(r.method, r.url, r.auth, r.payload)
    t.ok(res.statusCode >= 200 && res.statusCode < 300, `${r.name}: accepted once space is freed (${res.statusCode} ${res.statusCode >= 300 ? res.body : ''})`)
  }
  await waitFor(async () => (await inject('GET', '/readyz', 'none')).statusCode === 200, { what: '/readyz ready again', timeoutMs: 5000 })
})
