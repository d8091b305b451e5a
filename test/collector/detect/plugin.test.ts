import t from 'tap'
import { auth, DISK_KEY, MIN, report, T0, testApp, type TestApp } from '../incidents/fixtures/helpers.js'

async function send (h: TestApp, agent: { agentId: string, token: string }, seq: number, atMs: number, usedPct: number): Promise<void> {
  const r = await h.app.inject({
    method: 'POST',
    url: '/api/v1/reports',
    headers: auth(agent.token),
    payload: { reports: [report(agent.agentId, seq, atMs, [{ name: 'fs.used_pct', unit: 'percent', value: usedPct, labels: { mount: '/' } }], 'pc-accounting-7')] }
  })
  if (r.statusCode !== 200) throw new Error(`ingest answered ${r.statusCode}: ${r.body}`)
  await h.app.findingsSettled()
}

t.test('reports breaching a rule open one incident through the engine; the engine state survives a restart', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 60 } })
  const agent = await h.app.agents.enroll({ hostname: 'pc-accounting-7' })
  let seq = 1
  for (let i = 0; i <= 6; i++) {
    h.clock.set(T0 + i * MIN)
    await send(h, agent, seq++, T0 + i * MIN, 98)
  }
  let list = await h.incidents.list({})
  t.equal(list.total, 1)
  const inc = list.items[0]
  t.equal(inc.key, DISK_KEY)
  t.equal(inc.hostname, 'pc-accounting-7')
  t.equal(inc.severity, 'critical')
  t.ok((inc.evidence.window as { points: unknown[] }).points.length >= 5, 'series around detection attached')
  const m = (await h.app.inject({ url: `/api/v1/machines/${agent.agentId}`, headers: auth(h.viewer) })).json()
  t.equal(m.status, 'critical', 'the machine status follows the incident')
  t.equal(m.worst.incidentId, inc.id)

  await h.restart()
  t.ok(await h.app.detection.seriesCount() > 0, 'engine state restored')
  for (let i = 7; i <= 12; i++) {
    h.clock.set(T0 + i * MIN)
    await send(h, agent, seq++, T0 + i * MIN, 98)
  }
  list = await h.incidents.list({})
  t.equal(list.total, 1, 'no second incident after the restart')
  h.clock.set(T0 + 13 * MIN)
  await send(h, agent, seq, T0 + 13 * MIN, 50)
  t.equal((await h.incidents.detail(inc.id)).timeline.at(-1)?.type, 'cleared', 'the restored engine knew the rule was open')
  h.clock.set(T0 + 15 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(inc.id)).state, 'auto-resolved')
})

t.test('the OpenAPI document lists the incident, KB, silence and webhook routes with summaries and tags', async (t) => {
  const h = await testApp(t)
  const doc = (await h.app.inject({ url: '/docs' })).json()
  for (const [p, m] of [['/api/v1/incidents', 'get'], ['/api/v1/incidents/{id}/resolve', 'post'], ['/api/v1/kb/{id}', 'put'], ['/api/v1/silences', 'post'], ['/api/v1/webhooks', 'post']]) {
    const op = doc.paths[p]?.[m]
    t.ok(op?.summary, `${m} ${p} has a summary`)
    t.ok(op?.tags?.length > 0, `${m} ${p} has tags`)
  }
})

t.test('a learned anomaly is a hint on the machine, not an incident; a restart keeps what each machine learned', async (t) => {
  const h = await testApp(t, {})
  const agent = await h.app.agents.enroll({ hostname: 'pc-reception' })
  let seq = 1
  const post = async (atMs: number, cpu: number): Promise<void> => {
    h.clock.set(atMs)
    const r = await h.app.inject({
      method: 'POST', url: '/api/v1/reports', headers: auth(agent.token),
      payload: { reports: [report(agent.agentId, seq++, atMs, [{ name: 'cpu.load_pct', unit: 'percent', value: cpu }], 'pc-reception')] }
    })
    if (r.statusCode !== 200) throw new Error(`ingest answered ${r.statusCode}`)
  }
  // A day of a quiet CPU around 10 %, then a sustained 95 %.
  for (let i = 0; i < 600; i++) await post(T0 + i * MIN, 10 + (i % 5))
  for (let i = 600; i < 615; i++) await post(T0 + i * MIN, 95)
  await h.app.findingsSettled()
  t.equal((await h.incidents.list({})).total, 0, 'no incident from an anomaly alone')
  const hints = (await h.app.inject({ url: `/api/v1/machines/${agent.agentId}/anomalies`, headers: auth(h.viewer) })).json()
  t.ok(hints.items.length >= 1, 'the anomaly is on the machine')
  t.match(hints.items.at(-1), { series: 'cpu.load_pct', state: 'open' })
  t.match(hints.items.at(-1).title, /cpu.load_pct unusual: 95/)
  const missing = await h.app.inject({ url: '/api/v1/machines/m_nope/anomalies', headers: auth(h.viewer) })
  t.equal(missing.statusCode, 404)

  const before = JSON.stringify(await h.app.detection.exportMachine(agent.agentId))
  await h.restart()
  t.equal(JSON.stringify(await h.app.detection.exportMachine(agent.agentId)), before, "the machine's learned state is restored as it was saved on close")
})
