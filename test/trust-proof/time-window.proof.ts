/**
 * Proof for issue 14, "Time": the checks of step 5 of
 * test/e2e/live-closed-input.test.ts (which the old commit never reaches: it
 * stops at the wait in step 2), in process, with what both commits have, and without the
 * new error code. Findings: a leap second in agentClock answered 503 forever (the
 * agent retries a 503 forever); in sampledAt it was acknowledged but not stored;
 * a sampledAt in year 9999 froze the machine's latest values.
 */
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { makeReport } from '../helpers/reports.js'
import type { Report } from '../../protocol/index.js'

t.test('leap seconds and year 9999: a 4xx the agent does not retry, never a swallowed report; latest values keep moving', async t => {
  const h = await testApp({ config: { rateLimitAgentPerMin: 0 } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('time-pc')
  const post = async (r: Report): Promise<{ status: number, body: any }> => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    return { status: res.statusCode, body: res.json() }
  }
  const clientError = (s: number): boolean => s >= 400 && s < 500

  const leapClock = makeReport(agentId, 1)
  leapClock.agentClock = '2026-12-31T23:59:60Z'
  const a = await post(leapClock)
  t.ok(clientError(a.status), `a leap second in agentClock: ${a.status} (a 4xx, not a retry-forever 5xx)`)

  const leapSample = makeReport(agentId, 1)
  leapSample.sampledAt = '2026-12-31T23:59:60Z'
  const b = await post(leapSample)
  const swallowed = b.status === 200 && h.app.registry.countStoredReports(agentId) === 0
  t.notOk(swallowed, `a leap second in sampledAt: ${b.status}, stored ${h.app.registry.countStoredReports(agentId)} (never acknowledged and dropped)`)

  const future = makeReport(agentId, 2)
  future.sampledAt = '9999-12-31T00:00:00.000Z'
  await post(future)
  const fresh = makeReport(agentId, 3, { metrics: [{ name: 'cpu.usage', unit: 'percent', value: 42.5 }] })
  t.equal((await post(fresh)).status, 200)
  const detail = await h.app.inject({ url: `/api/v1/machines/${agentId}`, headers: { authorization: `Bearer ${h.viewerToken}` } })
  t.ok(detail.body.includes('42.5'), 'after a year-9999 sample, a normal report still updates the latest values')
})
