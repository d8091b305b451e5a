/**
 * Issue 14, "closed input, isolated output", against a real collector process and
 * real dashboard WebSockets: a deeply nested unknown field in a report, sent while a
 * watcher has that machine open, used to crash the collector in the live hub's flush.
 * Also: unknown fields dropped (never stored, never relayed), live socket budgets,
 * seq conflict / seq jump refusals, and the time window.
 */
import t from 'tap'
import { WebSocket } from 'ws'
import { spawnCollector, api, type CollectorProc } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { makeReport } from '../helpers/reports.js'
import { waitFor } from '../helpers/wait.js'
import { LIMITS, type Report } from '../../protocol/index.js'

const ENROLL = 'live-closed-enroll-0123456789'

interface Watcher { ws: WebSocket, frames: any[], closed: { code?: number } }

async function watch (c: CollectorProc, machines: string[]): Promise<Watcher> {
  const ws = new WebSocket(c.url.replace(/^http/, 'ws') + '/api/v1/live', { headers: { authorization: `Bearer ${c.adminToken!}` } })
  const w: Watcher = { ws, frames: [], closed: {} }
  ws.on('message', (d) => { w.frames.push(JSON.parse(String(d))) })
  ws.on('close', (code) => { w.closed.code = code })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => { resolve() }); ws.once('error', reject) })
  await waitFor(() => w.frames.some(f => f.type === 'hello'), { what: 'hello frame' })
  ws.send(JSON.stringify({ type: 'watch', machines }))
  return w
}

function reportEvents (w: Watcher): any[] {
  return w.frames.filter(f => f.type === 'batch').flatMap(f => f.events).filter((e: any) => e.type === 'report')
}

async function post (c: CollectorProc, token: string, body: string): Promise<{ status: number, body: any }> {
  const res = await fetch(c.url + '/api/v1/reports', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body })
  return { status: res.status, body: JSON.parse(await res.text()) }
}

t.test('a real collector with a live watcher survives deep and unknown fields, and drops them', async t => {
  const dataDir = tempDir(t)
  const c = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_RATE_LIMIT_AGENT: '0', VIGIE_LIVE_MAX_SOCKETS_PER_USER: '3' } })
  t.teardown(() => { c.proc.kill('SIGKILL') })
  const enr = await fetch(c.url + '/api/v1/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollToken: ENROLL, hostname: 'deep-pc', agentVersion: '1.0.0' }) })
  const { agentId, agentToken } = await enr.json() as { agentId: string, agentToken: string }
  const w = await watch(c, [agentId])

  // 1. A ~40 KB report with a deeply nested unknown field inside a metric.
  const deep = makeReport(agentId, 1) as any
  const depth = 20_000
  deep.metrics[0].extra = 'DEEP'
  const text = JSON.stringify({ reports: [deep] }).replace('"DEEP"', '['.repeat(depth) + ']'.repeat(depth))
  t.ok(text.length > 40_000, `the report is ${text.length} bytes`)
  const r1 = await post(c, agentToken, text)
  t.equal(r1.status, 400, 'the deep report is refused')
  t.equal(r1.body.code, 'VIGIE_ERR_JSON_TOO_DEEP')

  // 2. Shallow unknown fields everywhere: stored without them, relayed without them.
  const open = makeReport(agentId, 2) as any
  open.sneaky = { a: 1 }
  open.host.sneaky = 'host'
  open.metrics[0].sneaky = { nested: [1, 2, 3] }
  open.unavailable.push({ probe: 'smart', reason: 'absent', sneaky: true })
  const r2 = await post(c, agentToken, JSON.stringify({ reports: [open], sneaky: 'wrapper' }))
  t.equal(r2.status, 200, 'a report with unknown fields is accepted (v1: receivers ignore them)')
  t.same(r2.body.stored, [2])
  await waitFor(() => reportEvents(w).some(e => e.seq === 2), { what: 'the live event of seq 2' })
  const ev = reportEvents(w).find(e => e.seq === 2)
  t.notOk(JSON.stringify(ev).includes('sneaky'), 'the live event carries no unknown field')
  t.equal(ev.metrics.length, open.metrics.length, 'every metric relayed')
  const detail = await api(c.url + `/api/v1/machines/${agentId}`, c.adminToken!)
  t.equal(detail.status, 200)
  t.notOk(JSON.stringify(detail.body).includes('sneaky'), 'nothing unknown stored')

  // 3. The collector still serves and the watcher still gets well-formed events.
  const r3 = await post(c, agentToken, JSON.stringify({ reports: [makeReport(agentId, 3)] }))
  t.equal(r3.status, 200)
  await waitFor(() => reportEvents(w).some(e => e.seq === 3), { what: 'the live event of seq 3' })
  t.equal(c.proc.exitCode, null, 'the collector process is alive')
  t.equal((await fetch(c.url + '/healthz')).status, 200)

  // 4. Seq continuity: a different report under a stored seq is refused, an identical resend is a duplicate.
  const same = await post(c, agentToken, JSON.stringify({ reports: [open] }))
  t.same([same.status, same.body.duplicates], [200, [2]], 'identical resend: duplicate')
  const changed = makeReport(agentId, 3, { metrics: [{ name: 'cpu.usage', unit: 'percent', value: 99 }] })
  const conflict = await post(c, agentToken, JSON.stringify({ reports: [changed] }))
  t.equal(conflict.status, 409)
  t.equal(conflict.body.code, 'VIGIE_ERR_SEQ_CONFLICT')
  t.equal(conflict.body.path, '/reports/0/seq')
  const jump = await post(c, agentToken, JSON.stringify({ reports: [makeReport(agentId, Number.MAX_SAFE_INTEGER)] }))
  t.equal(jump.status, 400)
  t.equal(jump.body.code, 'VIGIE_ERR_SEQ_JUMP')
  const atBound = await post(c, agentToken, JSON.stringify({ reports: [makeReport(agentId, 3 + 1_000_000)] }))
  t.same([atBound.status, atBound.body.stored], [200, [1_000_003]], 'a jump of exactly the bound is stored')
  const overBound = await post(c, agentToken, JSON.stringify({ reports: [makeReport(agentId, 1_000_003 + 1_000_001)] }))
  t.equal(overBound.body.code, 'VIGIE_ERR_SEQ_JUMP', 'one over the bound is refused')

  // 5. Time: a leap second and a far-future sample get a 400 of their own; latest values keep moving.
  let seq = 1_000_004
  const leap = makeReport(agentId, seq) as Report
  leap.agentClock = '2026-12-31T23:59:60Z'
  const rl = await post(c, agentToken, JSON.stringify({ reports: [leap] }))
  t.same([rl.status, rl.body.code, rl.body.path], [400, 'VIGIE_ERR_TIME_INVALID', '/reports/0/agentClock'], 'leap second in agentClock')
  const leap2 = makeReport(agentId, seq) as Report
  leap2.sampledAt = '2026-12-31T23:59:60Z'
  const rl2 = await post(c, agentToken, JSON.stringify({ reports: [leap2] }))
  t.same([rl2.status, rl2.body.code, rl2.body.path], [400, 'VIGIE_ERR_TIME_INVALID', '/reports/0/sampledAt'], 'leap second in sampledAt')
  const future = makeReport(agentId, seq) as Report
  future.sampledAt = '9999-12-31T00:00:00.000Z'
  const rf = await post(c, agentToken, JSON.stringify({ reports: [future] }))
  t.same([rf.status, rf.body.code], [400, 'VIGIE_ERR_TIME_INVALID'], 'year 9999 refused')
  const old = makeReport(agentId, seq, { atMs: Date.now() - 79 * 3_600_000 })
  t.equal((await post(c, agentToken, JSON.stringify({ reports: [old] }))).body.code, 'VIGIE_ERR_TIME_INVALID', 'older than 78 h refused')
  const oldOk = makeReport(agentId, seq++, { atMs: Date.now() - 77 * 3_600_000 })
  t.equal((await post(c, agentToken, JSON.stringify({ reports: [oldOk] }))).status, 200, '77 h old (within the spool bound) stored')
  const fresh = makeReport(agentId, seq, { metrics: [{ name: 'cpu.usage', unit: 'percent', value: 42.5 }] })
  t.equal((await post(c, agentToken, JSON.stringify({ reports: [fresh] }))).status, 200)
  const after = await api(c.url + `/api/v1/machines/${agentId}`, c.adminToken!)
  t.ok(JSON.stringify(after.body).includes('42.5'), 'a normal report after the refused ones updates the latest values')

  // 6. Live budgets: 3 per user here; the 4th is refused with 429 before the upgrade.
  const w2 = await watch(c, [])
  const w3 = await watch(c, [])
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(c.url.replace(/^http/, 'ws') + '/api/v1/live', { headers: { authorization: `Bearer ${c.adminToken!}` } })
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('open', () => { resolve(101); ws.close() })
    ws.on('error', () => {})
  })
  t.equal(refused, 429, 'the socket over the per-user budget is refused with 429')
  w2.ws.close()
  await waitFor(async () => (await api<string>(c.url + '/metrics', c.adminToken!)).body.includes('live_clients 2'), { what: 'a socket freed' })
  const w4 = await watch(c, [])
  t.pass('once one closes, a new socket fits')

  // 7. A dashboard frame nested past the depth bound closes that socket alone (4400).
  const deepWatch = '{"type":"watch","machines":' + '['.repeat(LIMITS.maxJsonDepth) + ']'.repeat(LIMITS.maxJsonDepth) + '}'
  w4.ws.send(deepWatch)
  await waitFor(() => w4.closed.code, { what: 'the deep dashboard frame closes its socket' })
  t.equal(w4.closed.code, 4400, 'a dashboard frame deeper than the bound is refused with 4400')
  t.equal(w3.closed.code, undefined, 'other dashboard sockets stay open')
  t.equal((await api(c.url + '/healthz', c.adminToken!)).status, 200, 'the collector still serves')
  for (const x of [w, w3]) x.ws.close()
})
