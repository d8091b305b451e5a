import t from 'tap'
import { auth, finding, MIN, testApp } from '../incidents/fixtures/helpers.js'
import { ARTICLES, PAIRS } from './fixtures/articles.js'

t.test('technicians write articles, viewers read and search them', async (t) => {
  const h = await testApp(t)
  let r = await h.app.inject({ method: 'POST', url: '/api/v1/kb', headers: auth(h.viewer), payload: ARTICLES.diskFull })
  t.equal(r.statusCode, 403)
  r = await h.app.inject({ method: 'POST', url: '/api/v1/kb', headers: auth(h.tech), payload: { ...ARTICLES.diskFull, bogus: 1 } })
  t.equal(r.statusCode, 400)
  r = await h.app.inject({ method: 'POST', url: '/api/v1/kb', headers: auth(h.tech), payload: { symptoms: 'no title' } })
  t.equal(r.json().path, '/title')
  r = await h.app.inject({ method: 'POST', url: '/api/v1/kb', headers: auth(h.tech), payload: ARTICLES.diskFull })
  t.equal(r.statusCode, 201)
  const a = r.json()
  t.equal(a.version, 1)
  t.equal(a.createdBy, 'Tom Tech')
  t.same(a.steps, ARTICLES.diskFull.steps)
  await h.app.inject({ method: 'POST', url: '/api/v1/kb', headers: auth(h.tech), payload: ARTICLES.battery })

  r = await h.app.inject({ url: '/api/v1/kb?q=recycle%20bin', headers: auth(h.viewer) })
  t.equal(r.json().total, 1)
  t.equal(r.json().items[0].id, a.id)
  t.match(r.json().items[0].snippet, /\[recycle\]/)
  r = await h.app.inject({ url: '/api/v1/kb?q=batteries', headers: auth(h.viewer) })
  t.equal(r.json().items[0].title, ARTICLES.battery.title, 'stemmed: batteries finds battery')
  r = await h.app.inject({ url: '/api/v1/kb?q=' + encodeURIComponent('"unbalanced AND (quote'), headers: auth(h.viewer) })
  t.equal(r.statusCode, 200, 'search text is never parsed as FTS syntax')
  r = await h.app.inject({ url: '/api/v1/kb', headers: auth(h.viewer) })
  t.equal(r.json().total, 2)

  h.clock.advance(MIN)
  r = await h.app.inject({ method: 'PUT', url: `/api/v1/kb/${a.id as string}`, headers: auth(h.tech), payload: { title: 'System disk full (C: or /)', steps: ['Run Disk Cleanup'] } })
  t.equal(r.statusCode, 200)
  t.equal(r.json().version, 2)
  t.same(r.json().tags, [], 'PUT replaces')
  r = await h.app.inject({ url: '/api/v1/kb?q=recycle', headers: auth(h.viewer) })
  t.equal(r.json().total, 0, 'the index follows updates')
  r = await h.app.inject({ url: `/api/v1/kb/${a.id as string}`, headers: auth(h.viewer) })
  t.equal(r.json().title, 'System disk full (C: or /)')
  t.equal((await h.app.inject({ url: '/api/v1/kb/kb_nope', headers: auth(h.viewer) })).statusCode, 404)
  t.equal((await h.app.inject({ method: 'PUT', url: '/api/v1/kb/kb_nope', headers: auth(h.tech), payload: { title: 'x' } })).statusCode, 404)
})

t.test('suggestions: the right article comes first for at least 80% of incidents', async (t) => {
  const h = await testApp(t)
  const ids: Record<string, string> = {}
  for (const [name, body] of Object.entries(ARTICLES)) ids[name] = (await h.app.kb.create(body, 'seed')).id
  let top1 = 0
  let top3 = 0
  const misses: string[] = []
  for (const [i, [f, want]] of PAIRS.entries()) {
    await h.incidents.submit([finding({ machineId: `m${i}`, evidence: {}, ...f })])
    const inc = (await h.incidents.list({ machineId: `m${i}` })).items[0]
    const got = inc.suggestions.map((s) => s.articleId)
    if (got[0] === ids[want]) top1++
    else misses.push(`${f.title} → ${inc.suggestions[0]?.title ?? 'nothing'}`)
    if (got.includes(ids[want])) top3++
  }
  const p1 = top1 / PAIRS.length
  t.comment(`KB suggestions: top-1 ${top1}/${PAIRS.length} (${Math.round(p1 * 100)}%), top-3 ${top3}/${PAIRS.length}`)
  for (const m of misses) t.comment(`miss: ${m}`)
  t.ok(p1 >= 0.8, `top-1 ${Math.round(p1 * 100)}% ≥ 80%`)
  t.ok(top3 / PAIRS.length >= 0.9, 'top-3 ≥ 90%')
})

t.test('"document this fix" turns a resolution into an article that is suggested next time, with its track record', async (t) => {
  const h = await testApp(t)
  await h.app.kb.create(ARTICLES.battery, 'seed')
  await h.incidents.submit([finding({ machineId: 'm1', title: 'Disk / is 96% full' })])
  const first = (await h.incidents.list({})).items[0]
  t.same(first.suggestions, [], 'nothing relevant yet')
  const r = await h.app.inject({
    method: 'POST',
    url: `/api/v1/incidents/${first.id}/resolve`,
    headers: auth(h.tech),
    payload: { resolution: 'Purged the Teams cache folder (%appdata%/Microsoft/Teams/Cache)', document: { title: 'Teams cache fills the system disk', cause: 'Teams never trims its cache' } }
  })
  t.equal(r.statusCode, 200)
  const doc = r.json()
  t.ok(doc.timeline.some((e: { type: string }) => e.type === 'documented'))
  const articles = (await h.app.inject({ url: '/api/v1/kb?q=teams%20cache', headers: auth(h.viewer) })).json()
  t.equal(articles.total, 1)
  const art = articles.items[0]
  t.equal(art.sourceIncidentId, first.id)
  t.same(art.steps, ['Purged the Teams cache folder (%appdata%/Microsoft/Teams/Cache)'], 'the resolution becomes the fix step')
  t.same(art.keyPatterns, ['rule:disk_full:*'])
  t.equal(art.resolvedCount, 1)

  await h.incidents.submit([finding({ machineId: 'm2', key: 'rule:disk_full:fs.used_pct{mount="C:"}', series: 'fs.used_pct{mount="C:"}', title: 'Disk C: is 93% full' })])
  const next = (await h.incidents.list({ machineId: 'm2' })).items[0]
  t.equal(next.suggestions[0]?.articleId, art.id, 'suggested on the next similar incident')
  t.equal(next.suggestions[0]?.resolvedCount, 1)

  // updating the article from another resolution
  const again = await h.app.inject({
    method: 'POST',
    url: `/api/v1/incidents/${next.id}/resolve`,
    headers: auth(h.tech),
    payload: { resolution: 'Same fix', document: { articleId: art.id, tags: ['teams'] } }
  })
  t.equal(again.statusCode, 200)
  const updated = (await h.app.kb.get(art.id))!
  t.equal(updated.version, 2)
  t.equal(updated.resolvedCount, 2)
  t.ok(updated.tags.includes('teams'))
  t.equal(updated.title, 'Teams cache fills the system disk', 'fields not given are kept')
})
