/**
 * Budgets: open incidents per machine, and a webhook outbox fair per machine.
 * Findings: one agent opened 5,000 incidents in 3 requests; with the receiver
 * down, the bounded outbox then dropped real notifications, including a real
 * machine's SMART alert.
 */
import t from 'tap'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'
import { finding, MIN, testApp } from '../incidents/fixtures/helpers.js'
import { OVERFLOW_KEY } from '../../../collector/incidents/service.js'

const SECRET = 'a-shared-secret-of-some-length'
const SMART_KEY = 'rule:smart_failing:disk.smart_ok{disk="sda"}'

t.test('open incidents per machine: at the cap each finding opens its own; beyond it they fold into one', async (t) => {
  const cap = 50
  const h = await testApp(t, { config: { incidentMaxOpenPerMachine: cap } })
  const flood = Array.from({ length: cap + 150 }, (_, i) => finding({ machineId: 'noisy', key: `rule:x:${i}`, title: `Finding ${i}` }))
  // at the cap: exactly `cap` incidents of their own
  await h.incidents.submit(flood.slice(0, cap))
  let list = await h.incidents.list({ machineId: 'noisy', limit: 500 })
  t.equal(list.total, cap, 'at the cap every finding has its own incident')
  t.notOk(list.items.some((i) => i.key === OVERFLOW_KEY), 'no overflow incident yet')

  // one over, and many more: folded into a single "too many incidents" incident
  await h.incidents.submit(flood.slice(cap))
  list = await h.incidents.list({ machineId: 'noisy', limit: 500 })
  t.equal(list.total, cap + 1, `${cap} incidents plus one "too many incidents" incident, not ${cap + 150}`)
  const overflow = list.items.find((i) => i.key === OVERFLOW_KEY)
  t.ok(overflow !== undefined, 'an overflow incident tells the technician')
  t.match(overflow?.title, /Too many incidents/)
  t.equal(overflow?.count, 150, 'it counts every finding folded into it')
  t.equal((overflow?.evidence as { folded: number }).folded, 150)
  t.equal(h.app.counters.get('incidents_folded'), 150, 'counted on /metrics')

  // a finding for a key already open still updates its own incident
  await h.incidents.submit([finding({ machineId: 'noisy', key: 'rule:x:3', severity: 'critical', title: 'Finding 3 worse' })])
  const three = (await h.incidents.list({ machineId: 'noisy', limit: 500 })).items.find((i) => i.key === 'rule:x:3')
  t.equal(three?.severity, 'critical', 'an open incident keeps receiving its findings')

  // another machine is not affected
  await h.incidents.submit([finding({ machineId: 'quiet', key: SMART_KEY, severity: 'critical', title: 'SMART: sda failing' })])
  t.equal((await h.incidents.list({ machineId: 'quiet' })).total, 1, "another machine's finding opens its incident")
})

t.test("a flood from one machine never evicts another machine's alert from the outbox", async (t) => {
  const rx = await startWebhookReceiver(SECRET)
  t.teardown(() => rx.close())
  const max = 10
  const h = await testApp(t, { config: { webhookOutboxMax: max, webhookRetryMs: 1000, webhookAllow: ['127.0.0.1/32'] } })
  const notifier = h.app.notifier
  await notifier.create({ url: rx.url, secret: SECRET }, 'test')
  await rx.down()

  const flood = (from: number, n: number) => Array.from({ length: n }, (_, i) => finding({ machineId: 'flooder', key: `rule:x:${from + i}`, title: `Flood ${from + i}` }))
  await h.incidents.submit(flood(0, 5))
  await notifier.run()
  await h.incidents.submit([finding({ machineId: 'real-pc', key: SMART_KEY, severity: 'critical', title: 'SMART: sda failing' })])
  await notifier.run()
  await h.incidents.submit(flood(5, 30))
  await notifier.run()
  t.equal(await notifier.pending(), max, 'the outbox stays at its bound')
  t.equal(notifier.dropped, 35 + 1 - max, 'the overflow is dropped')

  await rx.up()
  h.clock.advance(10 * MIN)
  await notifier.run()
  await rx.waitFor(() => rx.accepted().length >= max, 5000, 'the waiting deliveries')
  const smart = rx.deliveries.filter((d) => d.body.incident?.machineId === 'real-pc')
  t.equal(smart.length, 1, "the real machine's SMART alert is delivered when the receiver is back")
  t.equal(smart[0]?.type, 'incident.opened')
  t.match(smart[0]?.body.incident.title, /SMART/)
  t.equal(rx.accepted().length, max, 'what was kept is delivered, nothing more')
})
