import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { makeReport } from '../../helpers/reports.js'

t.test('technician routes need a technician token', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const { token } = await h.enroll()
  const none = await h.app.inject({ url: '/api/v1/machines' })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'VIGIE_ERR_UNAUTHORIZED')
  const asAgent = await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${token}` } })
  t.equal(asAgent.statusCode, 403, 'an agent can read nothing')
  t.equal(asAgent.json().code, 'VIGIE_ERR_FORBIDDEN')
  const viewer = await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${h.viewerToken}` } })
  t.equal(viewer.statusCode, 200)
})

t.test('the fleet list, a machine and its series show what the agents reported', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const auth = { authorization: `Bearer ${h.adminToken}` }
  const a = await h.enroll('alpha')
  const b = await h.enroll('bravo')
  const now = Date.now()
  for (const [agent, host] of [[a, 'alpha'], [b, 'bravo']] as const) {
    const reports = [1, 2, 3].map(seq => makeReport(agent.agentId, seq, {
      atMs: now - (3 - seq) * 30_000,
      hostname: host,
      metrics: [
        { name: 'cpu.load_pct', unit: 'percent', value: seq * 10 },
        { name: 'fs.used_pct', unit: 'percent', value: 50, labels: { mount: '/' } },
        { name: 'fs.used_pct', unit: 'percent', value: host === 'bravo' ? 91 : 20, labels: { mount: '/home' } }
      ]
    }))
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${agent.token}` }, payload: { reports } })
    t.equal(r.statusCode, 200)
  }
  const list = (await h.app.inject({ url: '/api/v1/machines?sort=hostname', headers: auth })).json()
  t.equal(list.total, 2)
  t.same(list.items.map((m: { hostname: string }) => m.hostname), ['alpha', 'bravo'])
  t.equal(list.items[1].diskPct, 91, 'the fullest filesystem is the disk gauge')
  t.equal(list.items[0].cpuPct, 30, 'latest CPU value')
  t.equal(list.counts.healthy, 2)
  const search = (await h.app.inject({ url: '/api/v1/machines?q=BRAV', headers: auth })).json()
  t.same(search.items.map((m: { hostname: string }) => m.hostname), ['bravo'], 'search is case-insensitive on hostname')
  const paged = (await h.app.inject({ url: '/api/v1/machines?sort=hostname&limit=1&offset=1', headers: auth })).json()
  t.equal(paged.total, 2)
  t.same(paged.items.map((m: { hostname: string }) => m.hostname), ['bravo'])

  const detail = (await h.app.inject({ url: `/api/v1/machines/${a.agentId}`, headers: auth })).json()
  t.equal(detail.hostname, 'alpha')
  t.equal(detail.lastSeq, 3)
  t.equal(detail.online, true)
  t.equal(detail.host.model, 'ThinkPad T14 Gen 3')
  t.ok(detail.latest.some((v: { name: string }) => v.name === 'cpu.load_pct'))

  const series = (await h.app.inject({ url: `/api/v1/machines/${a.agentId}/series`, headers: auth })).json()
  t.ok(series.series.some((s: { name: string, labels: { mount?: string } }) => s.name === 'fs.used_pct' && s.labels.mount === '/home'))

  const m = (await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&from=10m&step=1s`, headers: auth })).json()
  t.same(m.series[0].points.map((p: [number, number]) => p[1]), [10, 20, 30], 'three samples in time order')
  const coarse = (await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&from=${now - 600_000}&to=${now + 1}&step=1h&agg=max`, headers: auth })).json()
  t.ok(coarse.series[0].points.length <= 2, 'an hour step aggregates')
  t.equal(Math.max(...coarse.series[0].points.map((p: [number, number]) => p[1])), 30)
  const filtered = (await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=fs.used_pct&labels=${encodeURIComponent('{"mount":"/home"}')}&from=10m`, headers: auth })).json()
  t.equal(filtered.series.length, 1)
  t.same(filtered.series[0].labels, { mount: '/home' })
})

t.test('bad queries name the parameter; unknown machines are 404', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const auth = { authorization: `Bearer ${h.adminToken}` }
  const a = await h.enroll()
  await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, 1)] } })
  const missing = await h.app.inject({ url: '/api/v1/machines/m_nope', headers: auth })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().code, 'VIGIE_ERR_NOT_FOUND')
  const badFrom = await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&from=last%20tuesday`, headers: auth })
  t.equal(badFrom.statusCode, 400)
  t.equal(badFrom.json().path, '/from')
  const badLabels = await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&labels=nope`, headers: auth })
  t.equal(badLabels.json().path, '/labels')
  const tooMany = await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&from=30d&step=1s`, headers: auth })
  t.equal(tooMany.statusCode, 400)
  t.equal(tooMany.json().path, '/step')
  const noRoute = await h.app.inject({ url: '/api/v1/nothing', headers: auth })
  t.equal(noRoute.statusCode, 404)
  t.equal(noRoute.json().code, 'VIGIE_ERR_ROUTE_NOT_FOUND')
})

t.test('operators get liveness, readiness, Prometheus metrics and the OpenAPI document', async t => {
  const h = await testApp()
  t.teardown(h.close)
  t.same((await h.app.inject({ url: '/healthz' })).json(), { status: 'ok' })
  const ready = await h.app.inject({ url: '/readyz' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().checks.metricStore.kind, 'sqlite')
  const a = await h.enroll()
  await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, 1)] } })
  const metrics = (await h.app.inject({ url: '/metrics' })).body
  t.match(metrics, /vigie_reports_stored_total 1\n/)
  t.match(metrics, /# TYPE vigie_agent_streams gauge/)
  const doc = (await h.app.inject({ url: '/docs' })).json()
  t.equal(doc.openapi, '3.1.0')
  t.ok(doc.paths['/api/v1/reports'].post.requestBody, 'the report batch schema is in the document')
  t.ok(doc.paths['/api/v1/machines/{id}/metrics'].get.parameters.some((p: { name: string }) => p.name === 'step'))
})
