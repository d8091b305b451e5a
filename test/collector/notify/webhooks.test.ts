import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'
import { signBody } from '../../../collector/notify/webhooks.js'
import { auth, clear, finding, MIN, testApp } from '../incidents/fixtures/helpers.js'

const SECRET = 'a-shared-secret-of-some-length'
// The receivers below listen on 127.0.0.1, which webhooks refuse unless allow-listed.
const LOOPBACK = { webhookAllow: ['127.0.0.1/32'] }

t.test('admins manage webhooks; others cannot; secrets are shown once', async (t) => {
  const h = await testApp(t, { config: LOOPBACK })
  let r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.tech), payload: { url: 'http://127.0.0.1:1/x' } })
  t.equal(r.statusCode, 403)
  r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: 'ftp://example.org/x' } })
  t.equal(r.statusCode, 400)
  r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: 'http://127.0.0.1:1/x', events: ['incident.nope'] } })
  t.equal(r.statusCode, 400)
  r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: 'http://127.0.0.1:1/x', events: ['incident.resolved'] } })
  t.equal(r.statusCode, 201)
  const created = r.json()
  t.ok(created.secret.length >= 32, 'a secret is generated')
  t.same(created.events, ['incident.resolved'])
  const list = (await h.app.inject({ url: '/api/v1/webhooks', headers: auth(h.admin) })).json()
  t.equal(list.items.length, 1)
  t.equal(list.items[0].secret, undefined, 'never shown again')
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${created.id as string}`, headers: auth(h.admin) })).statusCode, 204)
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${created.id as string}`, headers: auth(h.admin) })).statusCode, 404)
  t.equal((await h.app.inject({ url: '/api/v1/webhooks', headers: auth(h.viewer) })).statusCode, 403)
  // private targets are refused over the API; credentials are never shown
  r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: 'http://10.1.2.3/x' } })
  t.equal(r.statusCode, 400)
  t.equal(r.json().code, 'VIGIE_ERR_WEBHOOK_TARGET')
  r = await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: 'http://alice:pw-123@127.0.0.1:1/x' } })
  t.equal(r.json().url, 'http://***@127.0.0.1:1/x')
  t.notMatch((await h.app.inject({ url: '/api/v1/webhooks', headers: auth(h.admin) })).body, /pw-123|alice/)
})

t.test('a real receiver gets signed, ticket-ready events with an idempotency key, filtered by type', async (t) => {
  const rx = await startWebhookReceiver(SECRET)
  t.teardown(() => rx.close())
  const h = await testApp(t, { config: LOOPBACK })
  const all = (await h.app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: auth(h.admin), payload: { url: rx.url, secret: SECRET } })).json()
  const resolvedOnly = await h.app.notifier.create({ url: rx.url + '?only=resolved', secret: SECRET, events: ['incident.resolved'] }, 'test')

  await h.incidents.submit([finding({ machineId: 'm1', severity: 'critical', title: 'Disk / is 98% full' })])
  const id = (await h.incidents.list({})).items[0].id
  await h.incidents.acknowledge(id, 'Tom Tech', 'on it')
  await h.incidents.resolve(id, 'Tom Tech', { resolution: 'Emptied the recycle bin' })
  await rx.waitFor(() => rx.deliveries.length >= 4, 5000, 'four deliveries')
  await h.app.notifier.run()

  t.equal(rx.deliveries.length, 4)
  t.ok(rx.deliveries.every((d) => d.signatureValid), 'every signature checks out')
  t.same(rx.deliveries.filter((d) => d.body.type !== undefined).map((d) => d.type).sort(),
    ['incident.opened', 'incident.resolved', 'incident.resolved', 'incident.updated'])
  const opened = rx.deliveries.find((d) => d.type === 'incident.opened')!
  t.equal(opened.eventId, opened.body.id, 'Idempotency-Key is the event id')
  t.equal(opened.body.incident.id, id)
  t.equal(opened.body.ticket.externalId, `vigie:${id}`)
  t.equal(opened.body.ticket.priority, 'high')
  t.equal(opened.body.ticket.status, 'open')
  t.match(opened.body.ticket.title, /^\[critical\] m1: Disk \/ is 98% full/)
  const resolved = rx.deliveries.filter((d) => d.type === 'incident.resolved')
  t.equal(resolved[0].eventId, resolved[1].eventId, 'one event, one key, for every subscriber')
  t.equal(resolved[0].body.ticket.status, 'resolved')
  t.equal(rx.duplicates().length, 0)
  t.equal((await h.app.notifier.deliveries(resolvedOnly.id)).length, 1)
  t.same((await h.app.notifier.deliveries(all.id)).map((d) => d.state), ['delivered', 'delivered', 'delivered'])
  t.equal(opened.signature, signBody(SECRET, opened.timestamp, opened.raw), 'sha256=HMAC(secret, timestamp + "." + body)')
  t.ok(Math.abs(Number(opened.timestamp) - Date.now() / 1000) < 86_400 * 365 * 10, 'timestamp in unix seconds')
})

t.test('a failing receiver gets every event, in order, once it recovers (backoff from the outbox)', async (t) => {
  const rx = await startWebhookReceiver(SECRET)
  t.teardown(() => rx.close())
  const h = await testApp(t, { config: { ...LOOPBACK, webhookRetryMs: 1000 } })
  const wh = await h.app.notifier.create({ url: rx.url, secret: SECRET }, 'test')
  rx.mode = 'fail'
  await h.incidents.submit([finding({ machineId: 'm1' })])
  await h.app.notifier.run()
  const id = (await h.incidents.list({})).items[0].id
  await h.incidents.resolve(id, 'Tom Tech', { resolution: 'fixed' })
  await h.app.notifier.run()
  t.equal(rx.failures, 1, 'the second event waits behind the first')
  let d = await h.app.notifier.deliveries(wh.id)
  t.same(d.map((x) => [x.type, x.state, x.attempts]), [['incident.resolved', 'pending', 0], ['incident.opened', 'pending', 1]])
  t.equal(d[1].lastError, 'HTTP 500')
  t.equal(d[1].nextAttemptAt, new Date(h.clock.now() + 1000).toISOString(), 'first retry after the base delay')

  h.clock.advance(500)
  await h.app.notifier.run()
  t.equal(rx.failures, 1, 'not before the backoff')
  h.clock.advance(600)
  await h.app.notifier.run()
  t.equal(rx.failures, 2)
  t.equal((await h.app.notifier.deliveries(wh.id))[1].nextAttemptAt, new Date(h.clock.now() + 2000).toISOString(), 'the delay doubles')

  rx.mode = 'ok'
  h.clock.advance(2000)
  await h.app.notifier.run()
  t.same(rx.accepted().length, 2)
  t.same(rx.deliveries.slice(-2).map((x) => x.type), ['incident.opened', 'incident.resolved'], 'in order')
  t.equal(rx.duplicates().length, 0)
  d = await h.app.notifier.deliveries(wh.id)
  t.same(d.map((x) => x.state), ['delivered', 'delivered'])
  t.same(rx.deliveries.map((x) => x.eventId).filter((e, i, a) => a.indexOf(e) === i).length, 2, 'same key on every attempt')
})

t.test('a collector restart in the middle of a retry loses nothing and repeats nothing', async (t) => {
  const rx = await startWebhookReceiver(SECRET)
  t.teardown(() => rx.close())
  const h = await testApp(t, { config: { ...LOOPBACK, webhookRetryMs: 1000 } })
  await h.app.notifier.create({ url: rx.url, secret: SECRET }, 'test')
  await rx.down()
  await h.incidents.submit([finding({ machineId: 'm1' }), finding({ machineId: 'm2' })])
  await h.app.notifier.run()
  await h.incidents.submit([clear({ machineId: 'm1' })])
  h.clock.advance(6 * MIN)
  await h.incidents.tick()
  await h.app.notifier.run()
  t.equal(await h.app.notifier.pending(), 3, 'opened ×2 and resolved wait in the outbox')

  await h.restart()
  t.equal(await h.app.notifier.pending(), 3, 'still there after the restart')
  await rx.up()
  await h.app.notifier.run()
  t.equal(rx.accepted().length, 0, 'the retry is not due yet: the backoff was stored')
  h.clock.advance(3000)
  await h.app.notifier.run()
  t.equal(rx.accepted().length, 3)
  t.equal(rx.duplicates().length, 0)
  t.equal(await h.app.notifier.pending(), 0)
})

t.test('a receiver that hangs is cut off by the timeout and retried', async (t) => {
  const hang = createServer(() => { /* never answers */ })
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { hang.closeAllConnections(); hang.close() })
  const h = await testApp(t, { config: { ...LOOPBACK, webhookTimeoutMs: 200 } })
  const wh = await h.app.notifier.create({ url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/x` }, 'test')
  await h.incidents.submit([finding({ machineId: 'm1' })])
  const started = Date.now()
  await h.app.notifier.run()
  t.ok(Date.now() - started < 2000, 'bounded by the timeout')
  const d = (await h.app.notifier.deliveries(wh.id))[0]
  t.equal(d.state, 'pending')
  // coarse on purpose: a timeout reads like a refusal (no port-scan oracle)
  t.equal(d.lastError, 'no HTTP response (connection failed or timed out)')
})

t.test('the outbox is bounded: the oldest deliveries are dropped beyond the limit', async (t) => {
  const h = await testApp(t, { config: { ...LOOPBACK, webhookOutboxMax: 10 } })
  await h.app.notifier.create({ url: 'http://127.0.0.1:9/down' }, 'test')
  await h.incidents.submit(Array.from({ length: 15 }, (_, i) => finding({ machineId: `m${i}`, key: `rule:x:${i}` })))
  t.equal(await h.app.notifier.pending(), 10)
  t.equal(h.app.notifier.dropped, 5)
})
