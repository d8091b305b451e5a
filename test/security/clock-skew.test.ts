/**
 * An agent whose clock is wrong: the collector measures the offset at receipt,
 * corrects sample times beyond 2 minutes, and shows the skew on the machine
 * (GET /api/v1/machines/:id → clockSkewMs) — end to end against a real collector process.
 */
import t from 'tap'
import { tempDir } from '../helpers/temp.js'
import { api, spawnCollector } from '../helpers/processes.js'
import { makeReport } from '../helpers/reports.js'

const ENROLL = 'skew-enroll-token-0123456789'

t.test('a skewed agent clock is detected, shown, and its sample times corrected', async t => {
  const dataDir = tempDir(t)
  const c = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL } })
  t.teardown(() => c.stop())
  const enroll = async (hostname: string) => (await (await fetch(`${c.url}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollToken: ENROLL, hostname, agentVersion: '1' }) })).json()) as { agentId: string, agentToken: string }
  const send = async (a: { agentId: string, agentToken: string }, skewMs: number) => {
    // The agent's clock runs `skewMs` behind: both its sample time and its clock reading are off.
    const wrongNow = Date.now() - skewMs
    const r = makeReport(a.agentId, 1, { atMs: wrongNow - 500 })
    r.agentClock = new Date(wrongNow).toISOString()
    const res = await fetch(`${c.url}/api/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${a.agentToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ reports: [r] }) })
    t.equal(res.status, 200)
    return r
  }

  const slow = await enroll('slow-clock')
  const sentAt = Date.now()
  await send(slow, 3_600_000)
  const d = (await api(`${c.url}/api/v1/machines/${slow.agentId}`, c.adminToken!)).body
  t.ok(Math.abs(d.clockSkewMs - 3_600_000) < 5000, `skew shown: ${d.clockSkewMs} ms (1 h behind)`)
  const sampled = Date.parse(d.lastSampledAt)
  t.ok(Math.abs(sampled - (sentAt - 500)) < 5000, 'the sample time is corrected to the collector\'s clock, not one hour ago')

  const fast = await enroll('fast-clock')
  await send(fast, -86_400_000)
  const f = (await api(`${c.url}/api/v1/machines/${fast.agentId}`, c.adminToken!)).body
  t.ok(Math.abs(f.clockSkewMs + 86_400_000) < 5000, `a clock a day ahead: ${f.clockSkewMs} ms`)
  t.ok(Date.parse(f.lastSampledAt) <= Date.now() + 5000, 'no sample from the future')

  const ok = await enroll('nearly-right')
  const r = await send(ok, 30_000)
  const o = (await api(`${c.url}/api/v1/machines/${ok.agentId}`, c.adminToken!)).body
  t.ok(Math.abs(o.clockSkewMs - 30_000) < 5000, `a small skew is still shown (${o.clockSkewMs} ms)`)
  t.equal(o.lastSampledAt, r.sampledAt, 'within the 2 min tolerance the agent\'s own time is kept')
})
