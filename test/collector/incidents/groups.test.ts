import t from 'tap'
import { auth, MIN, report, T0, testApp } from './fixtures/helpers.js'

t.test('a machine group set at install silences its machines, and filters the fleet list', async (t) => {
  const h = await testApp(t, {})
  const lyon = await h.app.agents.enroll({ hostname: 'pc-lyon-1' })
  const paris = await h.app.agents.enroll({ hostname: 'pc-paris-1' })
  const silence = await h.app.inject({
    method: 'POST', url: '/api/v1/silences', headers: auth(h.admin),
    payload: { group: 'site-lyon', until: new Date(T0 + 86_400_000).toISOString(), reason: 'Lyon office move' }
  })
  t.equal(silence.statusCode, 201, silence.body)
  const seqs = new Map<string, number>()
  for (let i = 0; i <= 6; i++) {
    h.clock.set(T0 + i * MIN)
    for (const [a, group] of [[lyon, 'site-lyon'], [paris, 'site-paris']] as const) {
      const seq = (seqs.get(a.agentId) ?? 0) + 1
      seqs.set(a.agentId, seq)
      const r = report(a.agentId, seq, T0 + i * MIN, [{ name: 'fs.used_pct', unit: 'percent', value: 98, labels: { mount: '/' } }], a === lyon ? 'pc-lyon-1' : 'pc-paris-1')
      r.host.group = group
      const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: auth(a.token), payload: { reports: [r] } })
      t.equal(res.statusCode, 200)
    }
  }
  await h.app.findingsSettled()
  const open = (await h.incidents.list({})).items
  t.same(open.map(i => i.hostname), ['pc-paris-1'], 'the full disk opens an incident in Paris only: Lyon is silenced by group')
  const list = (await h.app.inject({ url: '/api/v1/machines?group=site-lyon', headers: auth(h.viewer) })).json()
  t.same(list.items.map((m: { hostname: string }) => m.hostname), ['pc-lyon-1'], 'the fleet list filters by group')
  t.equal(list.items[0].group, 'site-lyon')
  const search = (await h.app.inject({ url: '/api/v1/machines?q=site-paris', headers: auth(h.viewer) })).json()
  t.same(search.items.map((m: { hostname: string }) => m.hostname), ['pc-paris-1'], 'text search finds the group')
})
