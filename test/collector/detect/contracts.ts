/**
 * What any detection state store and anomaly log must do, whatever keeps them
 * (collector/detect/stores.ts). Each store runs these with fresh, empty ones.
 */
import type { Test } from 'tap'
import type { AnomalyLog, DetectionStateStore } from '../../../collector/detect/stores.js'
import type { Finding } from '../../../collector/detect/finding.js'

export interface UnderTest<T> { store: T, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

export function detectionStateContract (t: Test, make: () => Promise<UnderTest<DetectionStateStore>>): void {
  t.test('nothing saved: nothing to load', async t => {
    const u = await make()
    t.teardown(u.close)
    t.same(await u.store.load(), { machines: [] })
  })

  t.test('saved machines and the global part come back; a later save replaces a machine, keeps the others', async t => {
    const u = await make()
    t.teardown(u.close)
    const big = JSON.stringify({ series: Array.from({ length: 2000 }, (_v, i) => ({ k: `s${i}`, mean: i / 7 })) })
    await u.store.save(T0, { machines: [['m_a', '{"v":1}'], ['m_b', big]], global: '{"cohorts":[]}' })
    await u.store.save(T0 + 1000, { machines: [['m_a', '{"v":2}']] })
    const loaded = await u.store.load()
    t.same(new Map(loaded.machines), new Map([['m_a', '{"v":2}'], ['m_b', big]]), 'm_a replaced, m_b kept byte for byte')
    t.equal(loaded.global, '{"cohorts":[]}', 'the global part is kept when a save leaves it out')
    await u.store.save(T0 + 2000, { machines: [], global: '{"cohorts":[1]}' })
    t.equal((await u.store.load()).global, '{"cohorts":[1]}', 'and replaced when given')
  })
}

function hint (machineId: string, atMs: number, over: Partial<Finding> = {}): Finding {
  return { machineId, key: 'anomaly:net.rx_bytes_per_sec', kind: 'anomaly', state: 'open', severity: 'info', series: 'net.rx_bytes_per_sec{iface="eth0"}', atMs, title: 'Network traffic unusual', evidence: { z: 5.2, window: [1, 2, 3] }, ...over }
}

export function anomalyLogContract (t: Test, make: () => Promise<UnderTest<AnomalyLog>>): void {
  t.test('a machine\'s hints come back newest first, bounded by the limit, with their evidence', async t => {
    const u = await make()
    t.teardown(u.close)
    u.store.record(hint('m_a', T0))
    u.store.record(hint('m_a', T0 + 2000, { state: 'clear', title: 'Network traffic back to usual' }))
    u.store.record(hint('m_a', T0 + 1000, { series: undefined }))
    u.store.record(hint('m_b', T0 + 5000))
    const a = await u.store.list('m_a', 50)
    t.same(a.map(e => e.atMs), [T0 + 2000, T0 + 1000, T0], 'newest first, only that machine')
    t.same(a[0], { atMs: T0 + 2000, series: 'net.rx_bytes_per_sec{iface="eth0"}', state: 'clear', title: 'Network traffic back to usual', evidence: { z: 5.2, window: [1, 2, 3] } })
    t.equal(a[1].series, '', 'a hint without a series has an empty one')
    t.same((await u.store.list('m_a', 2)).map(e => e.atMs), [T0 + 2000, T0 + 1000], 'the limit')
    t.same(await u.store.list('m_none', 50), [], 'an unknown machine has none')
  })

  t.test('pruning drops hints older than the bound, of every machine', async t => {
    const u = await make()
    t.teardown(u.close)
    for (let i = 0; i < 5; i++) u.store.record(hint(i % 2 === 0 ? 'm_a' : 'm_b', T0 + i * 1000))
    t.equal(await u.store.prune(T0 + 2000), 2)
    t.same((await u.store.list('m_a', 50)).map(e => e.atMs), [T0 + 4000, T0 + 2000])
    t.same((await u.store.list('m_b', 50)).map(e => e.atMs), [T0 + 3000])
    t.equal(await u.store.prune(T0 + 2000), 0)
  })
}
