import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { testApp } from '../../helpers/app.js'
import { makeReport } from '../../helpers/reports.js'

t.test('an agent enrolls with the enrollment token and gets its own secret token', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: h.enrollToken, hostname: 'pc-1', agentVersion: '0.1.0' } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body.agentId, /^m_/)
  t.match(body.agentToken, /^vga_/)
  t.equal(body.reportIntervalSec, 30)
  t.ok(await h.app.agents.find(body.agentToken), 'the token authenticates the agent')
  const stored = h.app.db.prepare('SELECT token_hash FROM agents WHERE id = ?').get(body.agentId) as { token_hash: string }
  t.not(stored.token_hash, body.agentToken, 'only a hash of the token is stored')
  t.equal(stored.token_hash.length, 64)
})

t.test('enrollment is refused with a wrong, expired or used-up token', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const enroll = (enrollToken: string) => h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken, hostname: 'pc', agentVersion: '1' } })
  const wrong = await enroll('vge_not-a-real-token-at-all')
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'VIGIE_ERR_ENROLL_TOKEN')
  const expired = (await h.app.enrollTokens.create({ name: 'old', expiresMs: Date.now() - 1000 })).token
  t.equal((await enroll(expired)).statusCode, 401)
  const once = (await h.app.enrollTokens.create({ name: 'once', maxUses: 1 })).token
  t.equal((await enroll(once)).statusCode, 200)
  t.equal((await enroll(once)).statusCode, 401, 'second use refused')
  const bad = await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { hostname: 'pc', agentVersion: '1' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().path, '/enrollToken')
})

t.test('re-enrolling the same machine keeps its id and retires the old token only with its current agent token', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const enroll = async (bearer?: string) => (await h.app.inject({ method: 'POST', url: '/api/v1/enroll', headers: bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}, payload: { enrollToken: h.enrollToken, hostname: 'pc', agentVersion: '1', machineKey: 'abc123' } })).json()
  const a = await enroll()
  const b = await enroll(a.agentToken)
  t.equal(b.agentId, a.agentId)
  t.notOk(await h.app.agents.find(a.agentToken), 'old token no longer works')
  t.ok(await h.app.agents.find(b.agentToken))
  // Issue 14 changed this: without the current agent token the same machine key is a new machine, pending approval.
  const c = await enroll()
  t.not(c.agentId, a.agentId, 'no token: not the existing id')
  t.equal(c.status, 'pending')
  t.ok(await h.app.agents.find(b.agentToken), 'the existing machine keeps working')
})

t.test('a batch is stored once per (agent, seq): a resend is reported as duplicates', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const { agentId, token } = await h.enroll()
  // A resend is the same report again (the agent resends from its spool): build each seq once.
  const t0 = Date.now()
  const made = new Map<number, ReturnType<typeof makeReport>>()
  const report = (s: number) => { if (!made.has(s)) made.set(s, makeReport(agentId, s, { atMs: t0 - (10 - s) * 1000 })); return made.get(s)! }
  const send = (seqs: number[]) => h.app.inject({
    method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` },
    payload: { reports: seqs.map(report) }
  })
  const first = await send([1, 2, 3])
  t.equal(first.statusCode, 200)
  t.same(first.json().stored, [1, 2, 3])
  t.same(first.json().duplicates, [])
  const again = await send([2, 3, 4])
  t.same(again.json().stored, [4])
  t.same(again.json().duplicates, [2, 3])
  t.equal(h.app.registry.countStoredReports(agentId), 4)
  const series = await h.app.metrics.query({ machineId: agentId, name: 'cpu.load_pct', fromMs: 0, toMs: Date.now() + 1000, stepMs: 1 })
  t.equal(series[0].points.length, 4, 'one sample per stored report, none twice')
})

t.test('bad input gets a clear error, stores nothing, and the collector keeps serving', async t => {
  const h = await testApp({ config: { bodyLimitBytes: 64 * 1024 } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('pc-a')
  const other = await h.enroll('pc-b')
  const auth = { authorization: `Bearer ${token}` }
  const post = (payload: string | object, headers: Record<string, string> = auth) =>
    h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { 'content-type': 'application/json', ...headers }, payload })

  const dir = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'protocol', 'invalid')
  for (const f of fs.readdirSync(dir)) {
    const { expectPath, body } = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { expectPath: string, body: { reports: Array<{ agentId: string }> } }
    for (const r of body.reports) r.agentId = agentId
    const res = await post(body)
    t.equal(res.statusCode, 400, `${f} → 400`)
    t.equal(res.json().code, 'VIGIE_ERR_VALIDATION')
    t.equal(res.json().path, expectPath, `${f} names ${expectPath}`)
    t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'path', 'statusCode'])
  }

  // JSON has no Infinity, but an overflowing literal parses to it: refused with the field named.
  const overflowing = JSON.stringify({ reports: [makeReport(agentId, 1)] }).replace(/("value":)[^,}]+/, '$11e999')
  t.match(overflowing, /"value":1e999/)
  const infinite = await post(overflowing)
  t.equal(infinite.statusCode, 400, 'a value of 1e999 → 400')
  t.equal(infinite.json().code, 'VIGIE_ERR_VALIDATION')
  t.match(infinite.json().path, /^\/reports\/0\/metrics\/0\/value$/, 'the path names the value')

  const malformed = await post('{"reports": [')
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().code, 'VIGIE_ERR_MALFORMED_JSON')

  const noToken = await post({ reports: [makeReport(agentId, 1)] }, {})
  t.equal(noToken.statusCode, 401)
  t.equal(noToken.json().code, 'VIGIE_ERR_UNAUTHORIZED')
  const unknown = await post({ reports: [makeReport(agentId, 1)] }, { authorization: 'Bearer vga_unknown-token-value-0000000000' })
  t.equal(unknown.statusCode, 401)

  const impersonation = await post({ reports: [makeReport(agentId, 1), makeReport(other.agentId, 1)] })
  t.equal(impersonation.statusCode, 403)
  t.equal(impersonation.json().code, 'VIGIE_ERR_AGENT_MISMATCH')
  t.equal(impersonation.json().path, '/reports/1/agentId')

  const big = makeReport(agentId, 1)
  big.unavailable = Array.from({ length: 150 }, (_, i) => ({ probe: `p${i}`, reason: 'x'.repeat(500) }))
  const tooLarge = await post({ reports: [big] })
  t.equal(tooLarge.statusCode, 413)
  t.equal(tooLarge.json().code, 'VIGIE_ERR_BODY_TOO_LARGE')

  const wrongType = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(wrongType.statusCode, 415)
  t.equal(wrongType.json().code, 'VIGIE_ERR_UNSUPPORTED_MEDIA_TYPE')

  await h.app.agents.revoke(other.agentId)
  const revoked = await post({ reports: [makeReport(other.agentId, 1)] }, { authorization: `Bearer ${other.token}` })
  t.equal(revoked.statusCode, 401, 'a revoked agent is refused')

  t.equal(h.app.registry.countStoredReports(agentId), 0, 'nothing was stored by any bad request')
  t.equal(h.app.registry.countStoredReports(other.agentId), 0)
  t.equal(h.app.registry.getMachine(agentId), undefined)

  const ok = await post({ reports: [makeReport(agentId, 1)] })
  t.equal(ok.statusCode, 200, 'a valid batch is still accepted afterwards')
  t.same(ok.json().stored, [1])
})

t.test('a report from an agent whose clock is wrong is stored at the collector time', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const { agentId, token } = await h.enroll()
  const hourAhead = Date.now() + 3_600_000
  const r = makeReport(agentId, 1, { atMs: hourAhead })
  r.agentClock = new Date(hourAhead).toISOString()
  await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
  const m = h.app.registry.getMachine(agentId)!
  t.ok(Math.abs(m.lastSampledMs - Date.now()) < 60_000, 'sample time corrected to within a minute of real time')
  t.ok(m.clockSkewMs < -3_500_000, 'the skew is recorded')
})

t.test('HTTP and WebSocket judge a report the same way: a null or text value is refused, never turned into a number', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const { agentId, token } = await h.enroll()
  for (const value of [null, true, '42']) {
    const r = makeReport(agentId, 1) as unknown as { metrics: Array<{ value: unknown }> }
    r.metrics[0].value = value
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    t.equal(res.statusCode, 400, `value ${JSON.stringify(value)} → 400`)
    t.equal(res.json().path, '/reports/0/metrics/0/value')
  }
  t.equal(h.app.registry.countStoredReports(agentId), 0, 'no fake zero was stored')
  const q = await h.app.inject({ url: '/api/v1/machines?limit=5&offset=0', headers: { authorization: `Bearer ${h.adminToken}` } })
  t.equal(q.statusCode, 200, 'query strings are still read as numbers')
})
