/**
 * What any IncidentRepository must do, whatever keeps it
 * (collector/incidents/repository.ts). Each store runs this suite with a fresh,
 * empty repository: `make` builds one, `close` releases it.
 */
import type { Test } from 'tap'
import { MAX_AUTOMATIC_TIMELINE, type IncidentRepository } from '../../../collector/incidents/repository.js'
import type { IncidentRow, Silence } from '../../../collector/incidents/rows.js'

export interface IncidentRepositoryUnderTest { store: IncidentRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')
const MIN = 60_000

let n = 0
/** An open incident with every optional field empty; `over` sets the rest. */
export function incidentRow (over: Partial<IncidentRow> = {}): IncidentRow {
  n++
  return {
    id: `inc_c${n}`,
    machineId: 'm1',
    hostname: 'pc-1',
    key: 'rule:disk_full:/',
    kind: 'threshold',
    severity: 'warning',
    state: 'open',
    title: 'Disk / is 92% full',
    series: null,
    openedMs: T0,
    updatedMs: T0,
    lastSeenMs: T0,
    count: 1,
    flapping: false,
    conditionOpen: true,
    clearedMs: null,
    acknowledgedBy: null,
    acknowledgedMs: null,
    assignee: null,
    escalations: 0,
    escalatedMs: null,
    resolvedMs: null,
    resolvedBy: null,
    resolution: null,
    articleId: null,
    verifyUntilMs: null,
    evidence: {},
    impactMs: null,
    suspectedChange: null,
    parentId: null,
    regressedFrom: null,
    suggestions: [],
    notified: false,
    ...over
  }
}

const silence = (over: Partial<Silence> = {}): Silence => ({
  id: `sil_c${++n}`, fromMs: T0, untilMs: T0 + 60 * MIN, reason: 'patching', createdBy: 'Tom Tech', createdMs: T0, matched: 0, ...over
})

export function incidentRepositoryContract (t: Test, make: () => Promise<IncidentRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<IncidentRepository> {
    const u = await make()
    t.teardown(u.close)
    return u.store
  }

  t.test('an incident comes back with every field as written, and save writes every field', async t => {
    const store = await fresh(t)
    const full = incidentRow({
      series: 'disk.used_pct{mount=/}',
      clearedMs: T0 + 1,
      acknowledgedBy: 'Tom Tech',
      acknowledgedMs: T0 + 2,
      assignee: 'Ann',
      escalations: 2,
      escalatedMs: T0 + 3,
      flapping: true,
      conditionOpen: false,
      evidence: { value: 92, nested: { window: [1, 2, 3] }, text: 'é ✓' },
      impactMs: T0 + 4,
      suspectedChange: { app: 'Chrome', from: '120', to: '121', atMs: T0 - 5 } as unknown as IncidentRow['suspectedChange'],
      parentId: 'inc_parent',
      suggestions: [{ articleId: 'kb_1', score: 0.75 }],
      notified: true
    })
    await store.insert(full)
    t.same(await store.get(full.id), full, 'inserted as given')
    const changed: IncidentRow = {
      ...full,
      state: 'resolved',
      resolvedMs: T0 + 10,
      resolvedBy: 'Tom Tech',
      resolution: 'cleaned /var/log',
      articleId: 'kb_1',
      verifyUntilMs: T0 + 20,
      regressedFrom: { resolvedAt: '2026-05-01T00:00:00.000Z', resolvedBy: 'Ann', resolution: 'rebooted' } as IncidentRow['regressedFrom'],
      notified: false,
      flapping: false,
      count: 7,
      title: 'Disk / is 99% full'
    }
    await store.save(changed)
    t.same(await store.get(full.id), changed, 'every field saved')
    t.equal(await store.get('inc_none'), undefined, 'an unknown id is undefined')
  })

  t.test('one active incident per (machine, key): a second is refused, a resolved one does not count', async t => {
    const store = await fresh(t)
    const a = incidentRow()
    await store.insert(a)
    await t.rejects(store.insert(incidentRow()), 'a second open incident for the same machine and key is refused')
    await t.rejects(store.insert(incidentRow({ state: 'acknowledged' })), 'acknowledged counts as active')
    await store.insert(incidentRow({ machineId: 'm2' }))
    await store.insert(incidentRow({ key: 'rule:cpu_hot' }))
    t.same((await store.active('m1', 'rule:disk_full:/'))?.id, a.id)
    await store.save({ ...a, state: 'resolved' })
    t.equal(await store.active('m1', 'rule:disk_full:/'), undefined, 'resolved is not active')
    const b = incidentRow({ state: 'regressed', openedMs: T0 + MIN })
    await store.insert(b)
    t.same((await store.active('m1', 'rule:disk_full:/'))?.id, b.id, 'regressed is active')
  })

  t.test('counts, latest by state, children, peers of a key, worst active', async t => {
    const store = await fresh(t)
    await store.insert(incidentRow({ key: 'a', severity: 'info', openedMs: T0 }))
    await store.insert(incidentRow({ key: 'b', severity: 'critical', title: 'CPU hot', openedMs: T0 + MIN, parentId: 'inc_p' }))
    const newestCritical = incidentRow({ key: 'c', severity: 'critical', title: 'SMART failing', openedMs: T0 + 2 * MIN, parentId: 'inc_p' })
    await store.insert(newestCritical)
    await store.insert(incidentRow({ key: 'overflow', openedMs: T0 }))
    await store.insert(incidentRow({ key: 'd', state: 'resolved', severity: 'critical', openedMs: T0 + 9 * MIN }))
    await store.insert(incidentRow({ machineId: 'm2', key: 'a', severity: 'warning', openedMs: T0 + 3 * MIN }))
    await store.insert(incidentRow({ machineId: '*', key: 'a', severity: 'critical', openedMs: T0 + 4 * MIN }))
    t.equal(await store.countActive('m1', 'overflow'), 3, 'active ones of m1, the overflow key left out')

    await store.insert(incidentRow({ machineId: 'm3', key: 'k', state: 'auto-resolved', openedMs: T0 }))
    const newer = incidentRow({ machineId: 'm3', key: 'k', state: 'resolved', openedMs: T0 + 5 * MIN })
    await store.insert(newer)
    await store.insert(incidentRow({ machineId: 'm3', key: 'k', state: 'verified', openedMs: T0 + 6 * MIN }))
    t.equal((await store.latest('m3', 'k', ['resolved', 'auto-resolved']))?.id, newer.id, 'the most recently opened in those states')
    t.equal(await store.latest('m3', 'k', ['open']), undefined)

    t.same((await store.children('inc_p')).map(c => c.key), ['b', 'c'], 'children oldest first')
    t.same(await store.children('inc_none'), [])

    t.same((await store.activeWithKeySince('a', T0 + MIN)).map(i => i.machineId), ['m2'], 'since the time given, the fleet left out')
    t.same((await store.activeWithKeySince('a', T0)).map(i => i.machineId).sort(), ['m1', 'm2'])

    t.equal((await store.worstActive('m1'))?.key, 'c', 'critical first, then the newest; resolved ones left out')
    t.equal(await store.worstActive('m9'), undefined)
    const all = await store.worstActiveAll()
    t.same([...all.keys()].sort(), ['*', 'm1', 'm2'], 'only machines with an active incident')
    t.same(all.get('m1'), { severity: 'critical', title: newestCritical.title, id: newestCritical.id }, 'the same pick as worstActive')
    t.equal(all.get('m2')?.severity, 'warning')
  })

  t.test('timed: what a clock may act on at a given time', async t => {
    const store = await fresh(t)
    const cleared = incidentRow({ key: 'cleared', clearedMs: T0, conditionOpen: false })
    const fleet = incidentRow({ machineId: '*', key: 'fleet:x', conditionOpen: false })
    const escalating = incidentRow({ key: 'esc', escalations: 1 })
    const maxed = incidentRow({ key: 'maxed', escalations: 2 })
    const acked = incidentRow({ key: 'acked', state: 'acknowledged' })
    const quiet = incidentRow({ key: 'quiet', conditionOpen: false })
    const watchOver = incidentRow({ key: 'watch-over', state: 'resolved', verifyUntilMs: T0 + MIN })
    const watching = incidentRow({ key: 'watching', state: 'resolved', verifyUntilMs: T0 + 10 * MIN })
    const verified = incidentRow({ key: 'verified', state: 'verified', verifyUntilMs: T0 })
    for (const i of [cleared, fleet, escalating, maxed, acked, quiet, watchOver, watching, verified]) await store.insert(i)
    const keys = (await store.timed(T0 + MIN, 2)).map(i => i.key).sort()
    t.same(keys, ['cleared', 'esc', 'fleet:x', 'watch-over'])
  })

  t.test('list: filters, a literal text match, paging, newest first', async t => {
    const store = await fresh(t)
    const rows = [
      incidentRow({ id: 'inc_l1', machineId: 'm1', hostname: 'PC-Lyon-1', key: 'rule:disk_full:/', title: 'Disk / is 92% full', openedMs: T0 }),
      incidentRow({ id: 'inc_l2', machineId: 'm2', hostname: 'pc-paris', key: 'rule:cpu_hot', title: 'CPU at 100_percent', severity: 'critical', openedMs: T0 + MIN }),
      incidentRow({ id: 'inc_l3', machineId: 'm2', hostname: 'pc-paris', key: 'anomaly:mem', kind: 'anomaly', title: 'Memory unusual', state: 'resolved', openedMs: T0 + 2 * MIN }),
      incidentRow({ id: 'inc_l4', machineId: 'm3', hostname: 'pc-nice', key: 'rule:disk_full:/data', title: 'Disk /data is 95% full', state: 'acknowledged', openedMs: T0 + 2 * MIN })
    ]
    for (const r of rows) await store.insert(r)
    const ids = async (q: Parameters<IncidentRepository['list']>[0]): Promise<string[]> => (await store.list(q)).items.map(i => i.id)
    t.same(await ids({}), ['inc_l3', 'inc_l4', 'inc_l2', 'inc_l1'], 'opened newest first, then by id')
    t.same(await ids({ state: 'active' }), ['inc_l4', 'inc_l2', 'inc_l1'])
    t.same(await ids({ state: 'resolved' }), ['inc_l3'])
    t.same(await ids({ machineId: 'm2' }), ['inc_l3', 'inc_l2'])
    t.same(await ids({ severity: 'critical' }), ['inc_l2'])
    t.same(await ids({ kind: 'anomaly' }), ['inc_l3'])
    t.same(await ids({ q: 'lyon' }), ['inc_l1'], 'hostname, case-insensitive')
    t.same(await ids({ q: 'DISK' }), ['inc_l4', 'inc_l1'], 'title')
    t.same(await ids({ q: 'cpu_hot' }), ['inc_l2'], 'key')
    t.same(await ids({ q: '%' }), ['inc_l4', 'inc_l1'], '% taken literally')
    t.same(await ids({ q: '0_p' }), ['inc_l2'], '_ taken literally')
    t.same(await ids({ q: '  inc_l3 ' }), ['inc_l3'], 'the id, exactly (trimmed)')
    t.same(await ids({ q: '   ' }), ['inc_l3', 'inc_l4', 'inc_l2', 'inc_l1'], 'blank matches all')
    const page = await store.list({ limit: 2, offset: 1 })
    t.equal(page.total, 4, 'total ignores paging')
    t.same(page.items.map(i => i.id), ['inc_l4', 'inc_l2'])
    t.same((await store.list({ state: 'active', q: 'disk', limit: 1 })).total, 2, 'total counts the filtered set')
  })

  t.test('timeline: in order, fields as given; automatic entries stop at the bound, a technician\'s are kept', async t => {
    const store = await fresh(t)
    await store.addTimeline('inc_t', T0, 'opened', { text: 'Disk full' })
    await store.addTimeline('inc_t', T0 + 1, 'acknowledged', { by: 'Tom Tech' })
    await store.addTimeline('inc_t', T0 + 1, 'note', { by: 'Tom Tech', text: 'on it' })
    t.same(await store.timeline('inc_t'), [
      { at: new Date(T0).toISOString(), type: 'opened', text: 'Disk full' },
      { at: new Date(T0 + 1).toISOString(), type: 'acknowledged', by: 'Tom Tech' },
      { at: new Date(T0 + 1).toISOString(), type: 'note', by: 'Tom Tech', text: 'on it' }
    ])
    t.same(await store.timeline('inc_other'), [], 'per incident')
    for (let i = 3; i < MAX_AUTOMATIC_TIMELINE + 5; i++) await store.addTimeline('inc_t', T0 + i, 'returned')
    await store.addTimeline('inc_t', T0 + 10_000, 'resolved', { by: 'Tom Tech', text: 'fixed' })
    const all = await store.timeline('inc_t')
    t.equal(all.filter(e => e.type === 'returned').length, MAX_AUTOMATIC_TIMELINE - 3, 'automatic entries stop at the bound (counting every entry)')
    t.same(all.at(-1), { at: new Date(T0 + 10_000).toISOString(), type: 'resolved', by: 'Tom Tech', text: 'fixed' }, 'a technician\'s entry past the bound is kept')
  })

  t.test('flap history: opens counted per (machine, key) since a time, old ones pruned', async t => {
    const store = await fresh(t)
    for (const at of [T0, T0 + MIN, T0 + 2 * MIN]) await store.recordOpen('m1', 'k', at)
    await store.recordOpen('m1', 'other', T0 + MIN)
    await store.recordOpen('m2', 'k', T0 + MIN)
    t.equal(await store.opensSince('m1', 'k', T0 + MIN), 2, 'since is inclusive')
    t.equal(await store.opensSince('m1', 'k', T0), 3)
    await store.pruneOpens(T0 + MIN)
    t.equal(await store.opensSince('m1', 'k', 0), 2, 'only those before the time are pruned')
    t.equal(await store.opensSince('m2', 'k', 0), 1)
  })

  t.test('silences: kept with their scope, listed by start, counted, deleted, pruned after they end', async t => {
    const store = await fresh(t)
    const machine = silence({ machineId: 'm1', fromMs: T0 + MIN, untilMs: T0 + 10 * MIN })
    const group = silence({ group: 'lyon', keyPattern: 'rule:disk_full:*', fromMs: T0, untilMs: T0 + 60 * MIN })
    const ended = silence({ fromMs: T0 - 60 * MIN, untilMs: T0 - MIN })
    for (const s of [machine, group, ended]) await store.insertSilence(s)
    t.same(await store.silences(), [ended, group, machine], 'all, by start, every field as given (absent scope stays absent)')
    t.same((await store.silences(T0)).map(s => s.id), [group.id, machine.id], 'not yet ended at the time given')
    t.same((await store.silences(T0 + 10 * MIN)).map(s => s.id), [group.id], 'ended at its until')
    await store.countSilenceMatch(group.id)
    await store.countSilenceMatch(group.id)
    t.equal((await store.silences(T0)).find(s => s.id === group.id)?.matched, 2)
    t.equal(await store.deleteSilence(machine.id), true)
    t.equal(await store.deleteSilence(machine.id), false, 'a second delete finds none')
    await store.pruneSilences(T0)
    t.same((await store.silences()).map(s => s.id), [group.id], 'ended before the time: pruned')
  })

  t.test('transactions: committed when fn resolves, rolled back when it rejects, one after the other', async t => {
    const store = await fresh(t)
    const kept = incidentRow({ key: 'kept' })
    t.equal(await store.transaction(async () => { await store.insert(kept); await store.addTimeline(kept.id, T0, 'opened'); return 42 }), 42, 'fn\'s value')
    t.ok(await store.get(kept.id))
    const lost = incidentRow({ key: 'lost' })
    await t.rejects(store.transaction(async () => {
      await store.insert(lost)
      await store.addTimeline(lost.id, T0, 'opened')
      await store.recordOpen('m1', 'lost', T0)
      throw new Error('decided against it')
    }), /decided against it/)
    t.equal(await store.get(lost.id), undefined, 'the insert is rolled back')
    t.same(await store.timeline(lost.id), [], 'and the timeline')
    t.equal(await store.opensSince('m1', 'lost', 0), 0, 'and the flap history')

    // Two at once: each sees the other's work whole or not at all (one after the other, in either order).
    const seen: string[] = []
    const a = store.transaction(async () => {
      await store.insert(incidentRow({ id: 'inc_ta', key: 'ta' }))
      seen.push(`a sees tb: ${String(await store.get('inc_tb') !== undefined)}`)
      await store.addTimeline('inc_ta', T0, 'opened')
    })
    const b = store.transaction(async () => {
      seen.push(`b sees ta timeline: ${(await store.timeline('inc_ta')).length}`)
      await store.insert(incidentRow({ id: 'inc_tb', key: 'tb' }))
    })
    await Promise.all([a, b])
    const serial = [['a sees tb: false', 'b sees ta timeline: 1'], ['b sees ta timeline: 0', 'a sees tb: true']]
    t.ok(serial.some(order => JSON.stringify(order) === JSON.stringify(seen)), `isolated: ${seen.join('; ')}`)
  })
}
