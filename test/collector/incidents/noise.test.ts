import t from 'tap'
import { findSilence } from '../../../collector/incidents/silences.js'
import { familyPattern, keyFamily, matchesKeyPattern } from '../../../collector/incidents/key-pattern.js'
import { auth, clear, DISK_KEY, finding, MIN, T0, testApp } from './fixtures/helpers.js'

t.test('silences by machine and by key pattern keep findings from opening incidents, within their time range', async (t) => {
  const h = await testApp(t)
  const post = async (payload: object): Promise<{ statusCode: number, json: () => any }> =>
    await h.app.inject({ method: 'POST', url: '/api/v1/silences', headers: auth(h.tech), payload })

  let r = await post({ machineId: 'm1', until: new Date(T0 + 60 * MIN).toISOString(), reason: 'disk replacement' })
  t.equal(r.statusCode, 201)
  const byMachine = r.json()
  t.equal(byMachine.createdBy, 'Tom Tech')
  r = await post({ keyPattern: 'anomaly:*', from: new Date(T0 + 30 * MIN).toISOString(), until: new Date(T0 + 90 * MIN).toISOString(), reason: 'patch night' })
  t.equal(r.statusCode, 201)

  await h.incidents.submit([finding({ machineId: 'm1' }), finding({ machineId: 'm2' }), finding({ machineId: 'm2', key: 'anomaly:cpu.load_pct', kind: 'anomaly' })])
  t.same((await h.incidents.list({})).items.map((i) => `${i.machineId} ${i.key}`).sort(), ['m2 anomaly:cpu.load_pct', `m2 ${DISK_KEY}`], 'm1 silenced; the anomaly silence has not started')

  h.clock.advance(45 * MIN)
  await h.incidents.submit([finding({ machineId: 'm3', key: 'anomaly:mem.used_pct', kind: 'anomaly' })])
  t.equal((await h.incidents.list({ machineId: 'm3' })).total, 0, 'pattern silence active now')

  const list = (await h.app.inject({ url: '/api/v1/silences', headers: auth(h.viewer) })).json()
  t.equal(list.items.length, 2)
  t.equal(list.items.find((s: { id: string }) => s.id === byMachine.id).matched, 1)

  r = await h.app.inject({ method: 'DELETE', url: `/api/v1/silences/${byMachine.id as string}`, headers: auth(h.tech) })
  t.equal(r.statusCode, 204)
  r = await h.app.inject({ method: 'DELETE', url: `/api/v1/silences/${byMachine.id as string}`, headers: auth(h.tech) })
  t.equal(r.statusCode, 404)
  await h.incidents.submit([finding({ machineId: 'm1' })])
  t.equal((await h.incidents.list({ machineId: 'm1' })).total, 1, 'after deletion it opens')

  h.clock.advance(60 * MIN)
  await h.incidents.submit([finding({ machineId: 'm4', key: 'anomaly:cpu.load_pct', kind: 'anomaly' })])
  t.equal((await h.incidents.list({ machineId: 'm4' })).total, 1, 'expired silence no longer applies')
  t.equal((await h.app.inject({ url: '/api/v1/silences', headers: auth(h.viewer) })).json().items.length, 0)
  t.equal((await h.app.inject({ url: '/api/v1/silences?expired=true', headers: auth(h.viewer) })).json().items.length, 1)
})

t.test('silence bodies are checked', async (t) => {
  const h = await testApp(t)
  const post = async (payload: object, token = h.tech): Promise<{ statusCode: number, json: () => any }> =>
    await h.app.inject({ method: 'POST', url: '/api/v1/silences', headers: auth(token), payload })
  const until = new Date(T0 + 60 * MIN).toISOString()
  t.equal((await post({ until, reason: 'x' })).json().code, 'VIGIE_ERR_VALIDATION', 'needs a matcher')
  t.equal((await post({ machineId: 'm1', until: new Date(T0 - MIN).toISOString(), reason: 'x' })).statusCode, 400, 'until in the past')
  t.equal((await post({ machineId: 'm1', from: until, until, reason: 'x' })).json().path, '/until')
  t.equal((await post({ machineId: 'm1', until: 'tomorrow', reason: 'x' })).statusCode, 400)
  t.equal((await post({ machineId: 'm1', until })).statusCode, 400, 'reason required')
  t.equal((await post({ machineId: 'm1', until, reason: 'x' }, h.viewer)).statusCode, 403)
})

t.test('a silence matches only when every matcher it sets matches, group included', async (t) => {
  const s = { id: 's', group: 'lab', keyPattern: 'rule:disk_full:*', fromMs: T0, untilMs: T0 + MIN, reason: '', createdBy: '', createdMs: T0, matched: 0 }
  t.ok(findSilence([s], { machineId: 'm1', group: 'lab', key: DISK_KEY }, T0))
  t.notOk(findSilence([s], { machineId: 'm1', group: 'office', key: DISK_KEY }, T0))
  t.notOk(findSilence([s], { machineId: 'm1', key: DISK_KEY }, T0), 'no group known: a group silence does not match')
  t.notOk(findSilence([s], { machineId: 'm1', group: 'lab', key: 'offline' }, T0))
  t.notOk(findSilence([s], { machineId: 'm1', group: 'lab', key: DISK_KEY }, T0 + MIN), 'until is exclusive')
})

t.test('key patterns and families', async (t) => {
  t.ok(matchesKeyPattern('rule:disk_full:*', DISK_KEY))
  t.ok(matchesKeyPattern('*{mount="/"}', DISK_KEY))
  t.notOk(matchesKeyPattern('rule:disk_full', DISK_KEY), 'patterns match whole keys')
  t.notOk(matchesKeyPattern('rule:disk.full:*', 'rule:disk_full:x'), 'dots are literal')
  t.equal(keyFamily(DISK_KEY), 'rule:disk_full')
  t.equal(keyFamily('anomaly:cpu.load_pct{core="0"}'), 'anomaly:cpu.load_pct')
  t.equal(keyFamily('offline'), 'offline')
  t.equal(familyPattern(DISK_KEY), 'rule:disk_full:*')
  t.equal(familyPattern('offline'), 'offline')
})

t.test('the same key opening on many machines within a short window is grouped under one fleet parent', async (t) => {
  // the webhook's target is a local port: loopback is refused unless allow-listed
  const h = await testApp(t, { config: { webhookAllow: ['127.0.0.1/32'] } })
  const wh = await h.app.notifier.create({ url: 'http://127.0.0.1:9/hook' }, 'test')
  const machines = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']
  for (const m of machines) {
    await h.incidents.submit([finding({ machineId: m })])
    h.clock.advance(MIN)
  }
  const parents = await h.incidents.list({ machineId: '*' })
  t.equal(parents.total, 1, 'one parent')
  const parent = await h.incidents.detail(parents.items[0].id)
  t.equal(parent.key, `fleet:${DISK_KEY}`)
  t.equal(parent.hostname, 'fleet')
  t.same(parent.children.length, 7, 'all seven machines under it')
  t.match(parent.title, /on 5 machines/)
  for (const m of machines) t.equal((await h.incidents.list({ machineId: m })).items[0].parentId, parent.id)
  const opened = (await h.app.notifier.deliveries(wh.id)).filter((d) => d.type === 'incident.opened')
  t.equal(opened.length, 5, 'four machines before the group, then the parent; later children are not notified alone')

  // resolving the parent resolves its children
  await h.incidents.resolve(parent.id, 'Tom Tech', { resolution: 'Purged the shared cache folder by GPO' })
  t.equal((await h.incidents.list({ state: 'active' })).total, 0)
  t.equal((await h.incidents.list({ machineId: 'm6' })).items[0].resolution, 'Purged the shared cache folder by GPO')
})

t.test('a fleet parent auto-resolves when all its children are resolved', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 0 } })
  const machines = ['m1', 'm2', 'm3', 'm4', 'm5']
  await h.incidents.submit(machines.map((m) => finding({ machineId: m })))
  const parent = (await h.incidents.list({ machineId: '*' })).items[0]
  t.ok(parent)
  await h.incidents.submit(machines.slice(0, 4).map((m) => clear({ machineId: m })))
  await h.incidents.tick()
  t.equal((await h.incidents.detail(parent.id)).state, 'open')
  await h.incidents.submit([clear({ machineId: 'm5' })])
  await h.incidents.tick()
  await h.incidents.tick()
  t.equal((await h.incidents.detail(parent.id)).state, 'auto-resolved')
})

t.test('a change finding becomes the parent of the affected machines\' incidents', async (t) => {
  const h = await testApp(t)
  const childKey = 'anomaly:cpu.load_pct'
  const change = { app: 'Teams', from: '1.2', to: '1.3', affected: 3, updated: 4 }
  await h.incidents.submit(['m1', 'm2', 'm3'].map((m) => finding({ machineId: m, key: childKey, kind: 'anomaly', series: 'cpu.load_pct', title: 'cpu.load_pct unusual: 80 (usually ≈ 10)' })))
  await h.incidents.submit([{
    machineId: '*', key: `change:Teams:1.3:${childKey}`, kind: 'change', state: 'open', severity: 'warning', atMs: T0,
    title: `${childKey} on 3 of 4 machines that updated Teams from 1.2 to 1.3`,
    evidence: { machines: ['m1', 'm2', 'm3'], findingKey: childKey, sinceMs: T0 }, suspectedChange: change
  }])
  const parent = (await h.incidents.list({ kind: 'change' })).items[0]
  t.same(parent.suspectedChange, change)
  t.equal((await h.incidents.detail(parent.id)).children.length, 3)
  // a later machine's finding that carries the suspected change joins the parent
  await h.incidents.submit([finding({ machineId: 'm4', key: childKey, kind: 'anomaly', series: 'cpu.load_pct', title: 'cpu', suspectedChange: change })])
  t.equal((await h.incidents.list({ machineId: 'm4' })).items[0].parentId, parent.id)
})
