/**
 * What any WebhookRepository must do, whatever keeps it (collector/notify/repository.ts).
 * Each store runs this suite with a fresh, empty repository: `make` builds one,
 * `close` releases it.
 */
import type { Test } from 'tap'
import type { NewOutboxRow, StoredWebhook, WebhookRepository } from '../../../collector/notify/repository.js'

export interface WebhookRepositoryUnderTest { store: WebhookRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

function hook (id: string, over: Partial<StoredWebhook> = {}): StoredWebhook {
  return { id, url: `https://hooks.example/${id}`, secret: `secret-of-${id}-0123456789`, events: ['incident.opened', 'incident.resolved'], description: '', createdMs: T0, createdBy: 'admin', ...over }
}

function row (webhookId: string, eventId: string, machineId = 'pc-1', createdMs = T0): NewOutboxRow {
  return { webhookId, eventId, type: 'incident.opened', body: JSON.stringify({ eventId, machineId }), machineId, createdMs }
}

export function webhookRepositoryContract (t: Test, make: () => Promise<WebhookRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<WebhookRepository> {
    const u = await make()
    t.teardown(u.close)
    return u.store
  }

  t.test('subscriptions: kept as given, oldest first, the secret with them; a duplicate id is refused', async t => {
    const s = await fresh(t)
    await s.insertHook(hook('wh_b', { createdMs: T0 + 5, events: ['incident.verified'], description: 'ticketing' }))
    await s.insertHook(hook('wh_a', { createdMs: T0 + 5 }))
    await s.insertHook(hook('wh_c', { createdMs: T0 + 1, url: 'https://u:p@hooks.example/c?token=x' }))
    t.same((await s.hooks()).map(h => h.id), ['wh_c', 'wh_a', 'wh_b'], 'by creation time, then id')
    t.same(await s.getHook('wh_b'), hook('wh_b', { createdMs: T0 + 5, events: ['incident.verified'], description: 'ticketing' }), 'every field back')
    t.equal((await s.getHook('wh_c'))?.url, 'https://u:p@hooks.example/c?token=x', 'the URL unredacted (delivery needs it)')
    t.equal(await s.getHook('wh_none'), undefined)
    await t.rejects(s.insertHook(hook('wh_a')), 'an id already kept')
    t.equal((await s.hooks()).length, 3)
  })

  t.test('the outbox: rows in queue order per webhook; the oldest pending first; (webhook, event) once', async t => {
    const s = await fresh(t)
    await s.insertHook(hook('wh_a'))
    await s.insertHook(hook('wh_b'))
    await s.enqueue([row('wh_a', 'evt_1'), row('wh_b', 'evt_1')])
    await s.enqueue([row('wh_a', 'evt_2', 'pc-2', T0 + 10)])
    t.equal(await s.pendingCount(), 3)
    t.same((await s.webhooksWithPending()).sort(), ['wh_a', 'wh_b'])
    const first = await s.nextPending('wh_a')
    t.match(first, { webhookId: 'wh_a', eventId: 'evt_1', type: 'incident.opened', machineId: 'pc-1', createdMs: T0, nextMs: T0, attempts: 0, state: 'pending', lastStatus: null, lastError: null, doneMs: null })
    t.equal(first?.body, JSON.stringify({ eventId: 'evt_1', machineId: 'pc-1' }), 'the exact body')
    const listed = await s.deliveries('wh_a', 10)
    t.same(listed.map(d => d.eventId), ['evt_2', 'evt_1'], 'deliveries newest first')
    t.same((await s.deliveries('wh_a', 1)).map(d => d.eventId), ['evt_2'], 'bounded by the limit')
    t.ok(listed[0].id > listed[1].id, 'ids order rows')
    await t.rejects(s.enqueue([row('wh_b', 'evt_9'), row('wh_a', 'evt_1')]), 'the same event twice for one webhook')
    t.equal(await s.pendingCount(), 3, 'a refused batch leaves none of its rows')
  })

  t.test('attempts: retry moves the next time, delivered and dead end the row; the next pending row follows', async t => {
    const s = await fresh(t)
    await s.insertHook(hook('wh_a'))
    await s.enqueue([row('wh_a', 'evt_1'), row('wh_a', 'evt_2'), row('wh_a', 'evt_3')].map((r, i) => ({ ...r, createdMs: T0 + i })))
    const r1 = await s.nextPending('wh_a')
    await s.recordAttempt(r1!.id, { state: 'pending', attempts: 1, status: 503, error: 'HTTP 503', nextMs: T0 + 5000 })
    t.match(await s.nextPending('wh_a'), { eventId: 'evt_1', attempts: 1, lastStatus: 503, lastError: 'HTTP 503', nextMs: T0 + 5000, state: 'pending' }, 'a failed row stays first: later events wait behind it')
    await s.recordAttempt(r1!.id, { state: 'delivered', attempts: 2, status: 204, error: null, atMs: T0 + 6000 })
    const r2 = await s.nextPending('wh_a')
    t.equal(r2?.eventId, 'evt_2')
    await s.recordAttempt(r2!.id, { state: 'dead', attempts: 9, status: null, error: 'no response', atMs: T0 + 7000 })
    t.equal((await s.nextPending('wh_a'))?.eventId, 'evt_3')
    t.equal(await s.pendingCount(), 1)
    const done = (await s.deliveries('wh_a', 10)).reverse()
    t.match(done[0], { state: 'delivered', attempts: 2, lastStatus: 204, lastError: null, doneMs: T0 + 6000 })
    t.match(done[1], { state: 'dead', attempts: 9, lastStatus: null, lastError: 'no response', doneMs: T0 + 7000 })
    t.equal(await s.pruneDone(T0 + 6500), 1, 'done rows older than the cut go')
    t.same((await s.deliveries('wh_a', 10)).map(d => d.eventId), ['evt_3', 'evt_2'])
    t.equal(await s.pruneDone(T0 + 100_000), 1, 'pending rows are never pruned')
    t.equal(await s.pendingCount(), 1)
  })

  t.test('the fair bound: the heaviest machines first, ties to the oldest row; dropping takes a machine\'s oldest pending rows', async t => {
    const s = await fresh(t)
    await s.insertHook(hook('wh_a'))
    let e = 0
    const rows = (machine: string, n: number): NewOutboxRow[] => Array.from({ length: n }, () => row('wh_a', `evt_${++e}`, machine))
    await s.enqueue(rows('quiet', 2))
    await s.enqueue(rows('noisy', 5))
    await s.enqueue(rows('other', 2))
    t.same(await s.heaviestPending(2), [{ machineId: 'noisy', pending: 5 }, { machineId: 'quiet', pending: 2 }], "ties go to the machine with the oldest row")
    t.equal(await s.dropOldestPending('noisy', 3, T0 + 1, 'dropped: outbox full'), 3)
    const noisy = (await s.deliveries('wh_a', 100)).filter(d => d.machineId === 'noisy').reverse()
    t.same(noisy.map(d => d.state), ['dead', 'dead', 'dead', 'pending', 'pending'], 'the oldest three given up')
    t.match(noisy[0], { lastError: 'dropped: outbox full', doneMs: T0 + 1 })
    t.equal(await s.pendingCount(), 6)
    t.equal(await s.dropOldestPending('noisy', 10, T0 + 2, 'dropped'), 2, 'no more than it has')
    t.equal(await s.dropOldestPending('nobody', 1, T0 + 2, 'dropped'), 0)
    t.same((await s.heaviestPending(5)).map(m => m.machineId), ['quiet', 'other'])
  })

  t.test('deleting a subscription takes its rows with it, and only its own', async t => {
    const s = await fresh(t)
    await s.insertHook(hook('wh_a'))
    await s.insertHook(hook('wh_b'))
    await s.enqueue([row('wh_a', 'evt_1'), row('wh_b', 'evt_1')])
    t.equal(await s.deleteHook('wh_a'), true)
    t.equal(await s.deleteHook('wh_a'), false, 'already gone')
    t.equal(await s.getHook('wh_a'), undefined)
    t.same(await s.deliveries('wh_a', 10), [])
    t.same(await s.webhooksWithPending(), ['wh_b'])
    t.equal(await s.pendingCount(), 1)
  })
}
