import t from 'tap'
import type { LiveEvent } from '../../../collector/ingest/events.js'
import { auth, clear, DISK_KEY, finding, MIN, T0, testApp } from './fixtures/helpers.js'

const HOUR = 60 * MIN

t.test('opens one incident per machine for repeated disk breaches; repeats only count', async (t) => {
  const h = await testApp(t)
  const live: LiveEvent[] = []
  h.app.events.on('live', (e) => { live.push(e) })
  await h.incidents.submit([finding({ machineId: 'm1' }), finding({ machineId: 'm2' })])
  h.clock.advance(MIN)
  await h.incidents.submit([finding({ machineId: 'm1' }), finding({ machineId: 'm1', severity: 'critical', title: 'Disk / is 98% full' })])

  const res = await h.app.inject({ url: '/api/v1/incidents?state=open', headers: auth(h.viewer) })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.total, 2, 'one incident per machine')
  const m1 = body.items.find((i: { machineId: string }) => i.machineId === 'm1')
  t.equal(m1.count, 3)
  t.equal(m1.severity, 'critical', 'a worse repeat raises the severity')
  t.equal(m1.key, DISK_KEY)
  t.equal(m1.kind, 'threshold')
  t.equal(m1.state, 'open')
  t.equal(m1.openedAt, new Date(T0).toISOString())
  t.equal(m1.lastSeenAt, new Date(T0 + MIN).toISOString())
  t.same(live.filter((e) => e.change === 'opened').length, 2, 'two opened events on the live socket')
  t.ok(live.every((e) => e.type === 'incident'))

  const detail = (await h.app.inject({ url: `/api/v1/incidents/${m1.id as string}`, headers: auth(h.viewer) })).json()
  t.same(detail.timeline.map((e: { type: string }) => e.type), ['opened', 'severity'])
  t.equal(detail.evidence.value, 92)
  t.ok(detail.evidence.window, 'a short series window is attached')
})

t.test('acknowledge, assign, note, resolve, then verified after the follow-up period', async (t) => {
  const h = await testApp(t, { config: { incidentVerifySec: 3600 } })
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  const post = async (path: string, payload: object, token = h.tech): Promise<{ statusCode: number, json: () => any }> =>
    await h.app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/${path}`, headers: auth(token), payload })

  let r = await post('acknowledge', { note: 'on it' })
  t.equal(r.statusCode, 200)
  t.equal(r.json().state, 'acknowledged')
  t.equal(r.json().acknowledgedBy, 'Tom Tech')
  r = await post('assign', { assignee: 'Tom Tech' })
  t.equal(r.json().assignee, 'Tom Tech')
  r = await post('notes', { text: 'cleaned /var/log' })
  t.equal(r.statusCode, 200)
  h.clock.advance(10 * MIN)
  r = await post('resolve', { resolution: 'Rotated logs and removed old kernels' })
  t.equal(r.statusCode, 200)
  t.equal(r.json().state, 'resolved')
  t.equal(r.json().resolvedBy, 'Tom Tech')
  t.equal(r.json().resolution, 'Rotated logs and removed old kernels')
  t.equal(r.json().verifyUntil, new Date(T0 + 10 * MIN + HOUR).toISOString())
  await h.incidents.submit([clear({ machineId: 'm1' })])

  h.clock.advance(30 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(id)).state, 'resolved', 'still under watch')
  h.clock.advance(31 * MIN)
  await h.incidents.tick()
  const d = await h.incidents.detail(id)
  t.equal(d.state, 'verified')
  t.same(d.timeline.map((e) => e.type), ['opened', 'acknowledged', 'assigned', 'note', 'resolved', 'cleared', 'verified'])
  t.same(d.timeline.filter((e) => e.by !== undefined).map((e) => e.by), ['Tom Tech', 'Tom Tech', 'Tom Tech', 'Tom Tech'])
})

t.test('invalid transitions, unknown ids and malformed bodies get clear 4xx errors and change nothing', async (t) => {
  const h = await testApp(t)
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  const post = async (path: string, payload: unknown, token = h.tech): Promise<{ statusCode: number, json: () => any }> =>
    await h.app.inject({ method: 'POST', url: `/api/v1/incidents/${id}/${path}`, headers: { ...auth(token), 'content-type': 'application/json' }, payload: JSON.stringify(payload) })

  let r = await post('resolve', { resolution: 'fixed' })
  t.equal(r.statusCode, 200)
  const before = await h.incidents.detail(id)

  r = await post('resolve', { resolution: 'again' })
  t.equal(r.statusCode, 409)
  t.equal(r.json().code, 'VIGIE_ERR_CONFLICT')
  t.match(r.json().message, /it is resolved/)
  r = await post('acknowledge', {})
  t.equal(r.statusCode, 409)
  r = await post('assign', { assignee: 'x' })
  t.equal(r.statusCode, 409)
  r = await post('resolve', { resolution: '' })
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'VIGIE_ERR_VALIDATION')
  r = await post('resolve', { resolution: 'x', extra: 1 })
  t.equal(r.statusCode, 400)
  r = await post('resolve', { resolution: 'x', document: { articleId: 'kb_nope' } })
  t.equal(r.statusCode, 409, 'state is checked first')
  r = await post('notes', {})
  t.equal(r.statusCode, 400)
  t.equal(r.json().path, '/text')
  r = await h.app.inject({ method: 'POST', url: '/api/v1/incidents/inc_nope/acknowledge', headers: auth(h.tech), payload: {} })
  t.equal(r.statusCode, 404)
  t.equal(r.json().code, 'VIGIE_ERR_NOT_FOUND')
  r = await h.app.inject({ url: '/api/v1/incidents/inc_nope', headers: auth(h.viewer) })
  t.equal(r.statusCode, 404)
  r = await post('acknowledge', {}, h.viewer)
  t.equal(r.statusCode, 403, 'viewers read only')
  r = await h.app.inject({ url: '/api/v1/incidents?state=bogus', headers: auth(h.viewer) })
  t.equal(r.statusCode, 400)
  t.same(await h.incidents.detail(id), before, 'nothing changed')

  // reopen: allowed from resolved, refused when already active
  r = await post('reopen', { reason: 'user says it is full again' })
  t.equal(r.statusCode, 200)
  t.equal(r.json().state, 'open')
  r = await post('reopen', { reason: 'again' })
  t.equal(r.statusCode, 409)
  // an active unknown-article document is a 404 and changes nothing
  const open = await h.incidents.detail(id)
  r = await post('resolve', { resolution: 'x', document: { articleId: 'kb_nope' } })
  t.equal(r.statusCode, 404)
  t.same(await h.incidents.detail(id), open)
})

t.test('auto-resolves once the condition stays clear for the hold time; a return before that cancels it', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 300 } })
  const live: LiveEvent[] = []
  h.app.events.on('live', (e) => { live.push(e) })
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  h.clock.advance(MIN)
  await h.incidents.submit([clear({ machineId: 'm1' })])
  h.clock.advance(4 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(id)).state, 'open', 'hold not over')
  await h.incidents.submit([finding({ machineId: 'm1' })])
  h.clock.advance(10 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(id)).state, 'open', 'the condition returned: no auto-resolve')
  await h.incidents.submit([clear({ machineId: 'm1' })])
  h.clock.advance(5 * MIN)
  await h.incidents.tick()
  const d = await h.incidents.detail(id)
  t.equal(d.state, 'auto-resolved')
  t.equal(d.resolvedBy, 'vigie')
  t.equal(d.count, 2)
  t.same(d.timeline.map((e) => e.type), ['opened', 'cleared', 'returned', 'cleared', 'auto-resolved'])
  t.equal(live.at(-1)?.change, 'resolved')

  // a later breach is a new incident
  h.clock.advance(MIN)
  await h.incidents.submit([finding({ machineId: 'm1' })])
  t.equal((await h.incidents.list({ state: 'open' })).total, 1)
  t.not((await h.incidents.list({ state: 'open' })).items[0].id, id)
})

t.test('a finding that returns during the follow-up watch re-opens the incident as regressed, linking the resolution', async (t) => {
  const h = await testApp(t)
  const live: LiveEvent[] = []
  h.app.events.on('live', (e) => { live.push(e) })
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  await h.incidents.resolve(id, 'Tom Tech', { resolution: 'Deleted the old backups', document: { title: 'Old backups fill the system disk' } })
  await h.incidents.submit([clear({ machineId: 'm1' })])
  h.clock.advance(3 * HOUR)
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const d = await h.incidents.detail(id)
  t.equal(d.state, 'regressed')
  t.equal(d.regressedFrom?.resolution, 'Deleted the old backups')
  t.equal(d.regressedFrom?.resolvedBy, 'Tom Tech')
  t.ok(d.regressedFrom?.articleId, 'links the article the fix came from')
  t.equal(d.resolvedAt, undefined)
  t.equal((await h.incidents.list({ state: 'active' })).total, 1, 'still one active incident for the key')
  t.equal(live.at(-1)?.change, 'regressed')
  t.equal(await h.app.kb.resolvedCount(d.regressedFrom!.articleId!), 0, 'a regression does not count as a fix')

  // regressed incidents are worked like open ones
  t.equal((await h.incidents.acknowledge(id, 'Tom Tech')).state, 'acknowledged')
  t.equal((await h.incidents.resolve(id, 'Tom Tech', { resolution: 'Moved backups to the NAS' })).state, 'resolved')
})

t.test('a condition never cleared by the end of the watch is a regression, not a verification', async (t) => {
  const h = await testApp(t, { config: { incidentVerifySec: 600 } })
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  await h.incidents.resolve(id, 'Tom Tech', { resolution: 'Asked the user to clean up' })
  h.clock.advance(11 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(id)).state, 'regressed')
  t.match((await h.incidents.detail(id)).timeline.at(-1)?.text, /still present/)
})

t.test('flapping: opens and clears N times in the window hold the incident open instead of re-opening it', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 60, incidentFlapCount: 3, incidentFlapWindowSec: 3600 } })
  const opened: LiveEvent[] = []
  h.app.events.on('live', (e) => { if (e.change === 'opened') opened.push(e) })
  for (let i = 0; i < 6; i++) {
    await h.incidents.submit([finding({ machineId: 'm1' })])
    h.clock.advance(MIN)
    await h.incidents.submit([clear({ machineId: 'm1' })])
    h.clock.advance(2 * MIN)
    await h.incidents.tick()
  }
  const all = await h.incidents.list({})
  // the first two opens look like ordinary incidents; from the third (flapCount) on, the latest is held open
  t.equal(all.total, 2, 'six opens, two incidents: none after flapping was recognised')
  const d = await h.incidents.detail(all.items[0].id)
  t.equal(d.flapping, true)
  t.equal(d.state, 'open', 'held open while it flaps')
  t.equal(d.count, 5)
  t.equal(opened.length, 2)
  t.ok(d.timeline.some((e) => e.type === 'flapping'))
  // once it stays clear for the flap window, it resolves
  h.clock.advance(61 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(d.id)).state, 'auto-resolved')
})

t.test('flapping is also caught when clears come faster than the hold time', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 600, incidentFlapCount: 3 } })
  for (let i = 0; i < 4; i++) {
    await h.incidents.submit([finding({ machineId: 'm1' })])
    h.clock.advance(MIN)
    await h.incidents.submit([clear({ machineId: 'm1' })])
    h.clock.advance(MIN)
  }
  const d = (await h.incidents.list({})).items[0]
  t.equal((await h.incidents.list({})).total, 1)
  t.equal(d.flapping, true)
  t.equal(d.count, 4)
  h.clock.advance(15 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(d.id)).state, 'open', 'a flapping incident waits the whole flap window, not just the hold')
})

t.test('escalates an unacknowledged incident past the delay: severity raised, notified again; acknowledged ones do not', async (t) => {
  // the webhook's target is a local port: loopback is refused unless allow-listed
  const h = await testApp(t, { config: { incidentEscalateSec: 1800, webhookAllow: ['127.0.0.1/32'] } })
  const updates: LiveEvent[] = []
  h.app.events.on('live', (e) => { if (e.change === 'updated') updates.push(e) })
  const wh = await h.app.notifier.create({ url: 'http://127.0.0.1:9/hook' }, 'test')
  await h.incidents.submit([finding({ machineId: 'm1', severity: 'info' }), finding({ machineId: 'm2', severity: 'warning' })])
  const [a, b] = await Promise.all(['m1', 'm2'].map(async (m) => (await h.incidents.list({ machineId: m })).items[0].id))
  await h.incidents.acknowledge(b, 'Tom Tech')
  h.clock.advance(29 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(a)).severity, 'info')
  h.clock.advance(2 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(a)).severity, 'warning', 'raised one level')
  t.equal((await h.incidents.detail(b)).severity, 'warning', 'acknowledged: not escalated')
  h.clock.advance(31 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(a)).severity, 'critical')
  h.clock.advance(3 * HOUR)
  await h.incidents.tick()
  const d = await h.incidents.detail(a)
  t.equal(d.timeline.filter((e) => e.type === 'escalated').length, 2, 'at most two escalations')
  const types = (await h.app.notifier.deliveries(wh.id)).map((x) => x.type).reverse()
  t.same(types, ['incident.opened', 'incident.opened', 'incident.updated', 'incident.updated', 'incident.updated'], 'opened ×2, acknowledged, escalated ×2')
  t.ok(updates.length >= 3)
})

t.test('incidents, timelines and timers survive a restart', async (t) => {
  const h = await testApp(t, { config: { incidentHoldSec: 300 } })
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const id = (await h.incidents.list({})).items[0].id
  await h.incidents.addNote(id, 'Tom Tech', 'looking')
  await h.incidents.submit([clear({ machineId: 'm1' })])
  await h.restart()
  t.equal((await h.incidents.detail(id)).timeline.length, 3)
  h.clock.advance(6 * MIN)
  await h.incidents.tick()
  t.equal((await h.incidents.detail(id)).state, 'auto-resolved', 'the pending hold survived')
})

t.test('machine status shows the worst active incident', async (t) => {
  const h = await testApp(t)
  await h.incidents.submit([finding({ machineId: 'm1', severity: 'critical', title: 'Disk / is 99% full' }), finding({ machineId: 'm1', key: 'anomaly:cpu.load_pct', kind: 'anomaly', title: 'cpu' })])
  t.same((await h.incidents.worstSeverity('m1'))?.severity, 'critical')
  t.equal(await h.incidents.worstSeverity('m2'), undefined)
})
