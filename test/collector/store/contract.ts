/**
 * The MetricStore contract: what every metric store must do, whatever keeps the
 * samples. Run it against a store with {@link runMetricStoreContract}; each
 * subtest gets a fresh, empty store from `makeStore` and closes it afterwards.
 *
 * Samples are placed a day in the past on whole hours: well inside any raw
 * retention, and old enough that a store with asynchronous rollups must have
 * caught up by the time `settle()` resolves.
 */
import type { Test } from 'tap'
import type { Aggregate, MetricStore, SamplePoint, SeriesQuery, SeriesResult } from '../../../collector/store/metric-store.js'

export interface ContractSubject {
  store: MetricStore
  /** Resolves once everything appended so far is queryable at every resolution. */
  settle: () => Promise<void>
}

export interface ContractStoreOptions {
  /** days raw samples are kept */
  rawRetentionDays: number
  /** series one machine may create (VIGIE_MAX_SERIES_PER_MACHINE); the store's default when absent */
  maxSeriesPerMachine?: number
  /** series all machines together may create (VIGIE_MAX_SERIES_TOTAL); the store's default when absent */
  maxSeriesTotal?: number
  /** told once per machine when it reaches maxSeriesPerMachine */
  onSeriesLimit?: (machineId: string, limit: number) => void
  /** told of the points of new series dropped at maxSeriesTotal */
  onGlobalSeriesLimit?: (machineId: string, limit: number, droppedPoints: number) => void
}

export type MakeStore = (t: Test, options: ContractStoreOptions) => Promise<ContractSubject>

const MIN = 60_000
const HOUR = 3_600_000
const DAY = 86_400_000
const RETENTION_DAYS = 7
const M1 = 'm_3f2a9c01'
const M2 = 'm_77be0d42'

/** Two hours of `cpu.load_pct` every 15 s starting on a whole hour; value varies so every aggregate differs. */
function cpuSeries (anchor: number, machineId = M1): SamplePoint[] {
  const out: SamplePoint[] = []
  for (let i = 0; i < 480; i++) {
    out.push({ machineId, name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: anchor + i * 15_000, value: (i * 37) % 101 + i / 8 })
  }
  return out
}

/** What a correct store answers: epoch-aligned buckets over [from, to), empty ones left out. */
function expected (points: SamplePoint[], fromMs: number, toMs: number, stepMs: number, aggregate: Aggregate): Array<[number, number]> {
  const buckets = new Map<number, SamplePoint[]>()
  for (const p of points) {
    if (p.atMs < fromMs || p.atMs >= toMs) continue
    const b = Math.floor(p.atMs / stepMs) * stepMs
    const list = buckets.get(b) ?? []
    list.push(p)
    buckets.set(b, list)
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([b, ps]) => {
    const vs = ps.map((p) => p.value)
    switch (aggregate) {
      case 'avg': return [b, vs.reduce((s, v) => s + v, 0) / vs.length]
      case 'min': return [b, Math.min(...vs)]
      case 'max': return [b, Math.max(...vs)]
      case 'last': return [b, ps.reduce((l, p) => (p.atMs > l.atMs ? p : l)).value]
    }
  })
}

/** Same buckets, values equal to 9 significant digits (stores may sum in another order). */
function sameSeries (t: Test, actual: Array<[number, number]>, want: Array<[number, number]>, what: string): void {
  t.same(actual.map((p) => p[0]), want.map((p) => p[0]), `${what}: bucket starts`)
  const off = actual.findIndex((p, i) => want[i] === undefined || Math.abs(p[1] - want[i][1]) > 1e-9 * Math.max(1, Math.abs(want[i][1])))
  t.equal(off, -1, `${what}: values${off === -1 ? '' : ` (first difference at bucket ${off}: ${actual[off]?.[1]} vs ${want[off]?.[1]})`}`)
}

function byKey (results: SeriesResult[]): SeriesResult[] {
  return [...results].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)))
}

/** Run the whole contract as subtests of `t`, named after the store. */
export function runMetricStoreContract (t: Test, name: string, makeStore: MakeStore): void {
  const anchor = Math.floor(Date.now() / HOUR) * HOUR - DAY

  const open = async (tt: Test, extra: Omit<ContractStoreOptions, 'rawRetentionDays'> = {}): Promise<ContractSubject> => {
    const subject = await makeStore(tt, { rawRetentionDays: RETENTION_DAYS, ...extra })
    tt.teardown(async () => { await subject.store.close() })
    await subject.store.start()
    return subject
  }

  t.test(`${name}: returns raw samples in time order, even when appended out of order`, async (tt) => {
    const { store, settle } = await open(tt)
    const points = cpuSeries(anchor)
    // Three appends, newest first, as a replaying agent spool might deliver them.
    store.append(points.slice(320))
    store.append(points.slice(160, 320))
    store.append(points.slice(0, 160))
    await settle()
    const res = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: anchor, toMs: anchor + 2 * HOUR, stepMs: 15_000 })
    tt.equal(res.length, 1, 'one series')
    tt.equal(res[0].resolution, 'raw', 'a 15 s step is answered from raw samples')
    tt.equal(res[0].unit, 'percent', 'unit comes back')
    tt.same(res[0].labels, {}, 'no labels')
    sameSeries(tt, res[0].points, points.map((p) => [p.atMs, p.value]), 'every sample once, ascending')
  })

  for (const [stepMs, label] of [[MIN, '1-minute'], [5 * MIN, '5-minute'], [15 * MIN, '15-minute'], [HOUR, 'hourly'], [2 * HOUR, '2-hour']] as const) {
    t.test(`${name}: aggregates ${label} buckets as average, minimum, maximum and last value`, async (tt) => {
      const { store, settle } = await open(tt)
      const points = cpuSeries(anchor)
      store.append(points)
      await settle()
      for (const aggregate of ['avg', 'min', 'max', 'last'] as const) {
        const res = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: anchor, toMs: anchor + 2 * HOUR, stepMs, aggregate })
        tt.equal(res.length, 1, `${aggregate}: one series`)
        if (stepMs < 5 * MIN) tt.equal(res[0]?.resolution, 'raw', `${aggregate}: a step under 5 minutes reads raw samples`)
        else tt.ok(['raw', '5m', '1h'].includes(res[0]?.resolution ?? ''), `${aggregate}: resolution is named`)
        sameSeries(tt, res[0]?.points ?? [], expected(points, anchor, anchor + 2 * HOUR, stepMs, aggregate), aggregate)
      }
    })
  }

  t.test(`${name}: treats avg as the default aggregate`, async (tt) => {
    const { store, settle } = await open(tt)
    const points = cpuSeries(anchor)
    store.append(points)
    await settle()
    const res = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: anchor, toMs: anchor + HOUR, stepMs: 5 * MIN })
    sameSeries(tt, res[0]?.points ?? [], expected(points, anchor, anchor + HOUR, 5 * MIN, 'avg'), 'default = avg')
  })

  t.test(`${name}: aligns buckets to multiples of the step when the range starts mid-bucket`, async (tt) => {
    const { store, settle } = await open(tt)
    const points = cpuSeries(anchor)
    store.append(points)
    await settle()
    const from = anchor + 30_000
    const to = anchor + 10 * MIN + 30_000
    const res = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: from, toMs: to, stepMs: MIN, aggregate: 'avg' })
    const want = expected(points, from, to, MIN, 'avg')
    tt.equal(want[0][0], anchor, 'the first bucket starts before the range')
    sameSeries(tt, res[0]?.points ?? [], want, 'only samples inside the range, in epoch-aligned buckets')
  })

  t.test(`${name}: selects series by exact labels and keeps each series' labels`, async (tt) => {
    const { store, settle } = await open(tt)
    const at = anchor + 10 * MIN
    store.append([
      { machineId: M1, name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent', atMs: at, value: 41.5 },
      { machineId: M1, name: 'fs.used_pct', labels: { mount: '/home' }, unit: 'percent', atMs: at, value: 73.25 },
      { machineId: M1, name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0' }, unit: 'bytes_per_second', atMs: at, value: 1200 },
      { machineId: M1, name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0', vlan: '10' }, unit: 'bytes_per_second', atMs: at, value: 300 }
    ])
    await settle()
    const range = { machineId: M1, fromMs: anchor, toMs: anchor + HOUR, stepMs: MIN }
    const root = await store.query({ ...range, name: 'fs.used_pct', labels: { mount: '/' } })
    tt.same(root.map((r) => [r.labels, r.points]), [[{ mount: '/' }, [[at, 41.5]]]], 'mount=/ only')
    const all = byKey(await store.query({ ...range, name: 'fs.used_pct' }))
    tt.same(all.map((r) => [r.labels, r.unit, r.points]), [
      [{ mount: '/' }, 'percent', [[at, 41.5]]],
      [{ mount: '/home' }, 'percent', [[at, 73.25]]]
    ], 'no label filter: every series of the name, each with its labels')
    const eth0 = await store.query({ ...range, name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0' } })
    tt.same(eth0.map((r) => [r.labels, r.points]), [[{ iface: 'eth0' }, [[at, 1200]]]], 'a label filter is exact, not a subset match')
    const none = await store.query({ ...range, name: 'fs.used_pct', labels: { mount: '/mnt' } })
    tt.same(none, [], 'unknown label value: nothing')
    // countSeries says how many series query would answer, without reading samples (the answer budget)
    tt.same([
      await store.countSeries(M1, 'fs.used_pct'),
      await store.countSeries(M1, 'fs.used_pct', { mount: '/' }),
      await store.countSeries(M1, 'net.rx_bytes_per_sec', { iface: 'eth0' }),
      await store.countSeries(M1, 'fs.used_pct', { mount: '/mnt' }),
      await store.countSeries(M2, 'fs.used_pct')
    ], [2, 1, 1, 0, 0], 'countSeries matches what query answers')
  })

  t.test(`${name}: keeps label values with spaces, commas, quotes and equals signs intact`, async (tt) => {
    const { store, settle } = await open(tt)
    const labels = { mount: '/media/My Disk, "2"=x\\y' }
    store.append([{ machineId: M1, name: 'fs.used_pct', labels, unit: 'percent', atMs: anchor, value: 12 }])
    await settle()
    const res = await store.query({ machineId: M1, name: 'fs.used_pct', labels, fromMs: anchor, toMs: anchor + MIN, stepMs: MIN })
    tt.same(res.map((r) => [r.labels, r.points]), [[labels, [[anchor, 12]]]], 'query by the odd label finds it')
    tt.same(await store.listSeries(M1), [{ name: 'fs.used_pct', labels, unit: 'percent' }], 'listSeries returns it unchanged')
  })

  t.test(`${name}: keeps machines apart`, async (tt) => {
    const { store, settle } = await open(tt)
    store.append([
      { machineId: M1, name: 'mem.used_pct', labels: {}, unit: 'percent', atMs: anchor, value: 10 },
      { machineId: M2, name: 'mem.used_pct', labels: {}, unit: 'percent', atMs: anchor, value: 90 }
    ])
    await settle()
    const res = await store.query({ machineId: M2, name: 'mem.used_pct', fromMs: anchor, toMs: anchor + MIN, stepMs: MIN })
    tt.same(res.map((r) => r.points), [[[anchor, 90]]], 'only the asked machine')
    tt.same((await store.listSeries(M2)).map((s) => s.name), ['mem.used_pct'], 'listSeries is per machine')
  })

  t.test(`${name}: lists every series of a machine with its labels and unit`, async (tt) => {
    const { store, settle } = await open(tt)
    store.append([
      { machineId: M1, name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: anchor, value: 1 },
      { machineId: M1, name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent', atMs: anchor, value: 2 },
      { machineId: M1, name: 'fs.used_pct', labels: { mount: '/home' }, unit: 'percent', atMs: anchor, value: 3 },
      { machineId: M1, name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent', atMs: anchor + MIN, value: 4 },
      { machineId: M1, name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0' }, unit: 'bytes_per_second', atMs: anchor, value: 5 },
      { machineId: M2, name: 'gpu.temp_c', labels: {}, unit: 'celsius', atMs: anchor, value: 6 }
    ])
    await settle()
    const list = await store.listSeries(M1)
    const sorted = [...list].sort((a, b) => (a.name + JSON.stringify(a.labels)).localeCompare(b.name + JSON.stringify(b.labels)))
    tt.same(sorted, [
      { name: 'cpu.load_pct', labels: {}, unit: 'percent' },
      { name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent' },
      { name: 'fs.used_pct', labels: { mount: '/home' }, unit: 'percent' },
      { name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0' }, unit: 'bytes_per_second' }
    ], 'each series once')
    tt.same(await store.listSeries('m_unknown'), [], 'an unknown machine has no series')
  })

  t.test(`${name}: answers no samples for ranges, names and machines without samples`, async (tt) => {
    const { store, settle } = await open(tt)
    store.append(cpuSeries(anchor))
    await settle()
    // A store may list a known series with no points or leave it out; it may not invent points.
    const points = async (q: SeriesQuery): Promise<Array<[number, number]>> => (await store.query(q)).flatMap((r) => r.points)
    const q = { machineId: M1, name: 'cpu.load_pct', fromMs: anchor - 3 * HOUR, toMs: anchor - HOUR, stepMs: 15_000 }
    tt.same(await points(q), [], 'range before the samples')
    tt.same(await points({ ...q, stepMs: HOUR }), [], 'range before the samples, hourly')
    tt.same(await points({ ...q, fromMs: anchor + 2 * HOUR, toMs: anchor + 3 * HOUR }), [], 'range just after the samples (end is exclusive)')
    tt.same(await points({ ...q, fromMs: anchor, toMs: anchor }), [], 'empty range')
    tt.same(await store.query({ ...q, name: 'disk.smart_ok', fromMs: anchor, toMs: anchor + HOUR }), [], 'unknown name: no series')
    tt.same(await store.query({ ...q, machineId: 'm_unknown', fromMs: anchor, toMs: anchor + HOUR }), [], 'unknown machine: no series')
  })

  t.test(`${name}: excludes the end of the range and includes its start`, async (tt) => {
    const { store, settle } = await open(tt)
    const points = cpuSeries(anchor)
    store.append(points)
    await settle()
    const res = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: anchor + 15_000, toMs: anchor + 60_000, stepMs: 15_000 })
    tt.same(res[0]?.points.map((p) => p[0]), [anchor + 15_000, anchor + 30_000, anchor + 45_000], 'start kept, end left out')
  })

  t.test(`${name}: forgets raw samples older than the retention when pruned`, async (tt) => {
    const { store, settle } = await open(tt)
    const now = Date.now()
    const oldStart = Math.floor((now - (RETENTION_DAYS + 2) * DAY) / HOUR) * HOUR
    const old = Array.from({ length: 20 }, (_, i): SamplePoint =>
      ({ machineId: M1, name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: oldStart + i * 15_000, value: i }))
    const recent = cpuSeries(anchor)
    store.append(old)
    store.append(recent)
    await settle()
    const dropped = await store.prune(now)
    tt.ok(dropped >= old.length, `prune reports the ${old.length} expired samples (got ${dropped})`)
    await settle()
    const gone = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: oldStart, toMs: oldStart + HOUR, stepMs: 15_000 })
    // A store may answer an expired range from its rollups; it may not return the raw samples.
    tt.same(gone.filter((r) => r.resolution === 'raw').flatMap((r) => r.points), [], 'expired raw samples are not returned')
    const kept = await store.query({ machineId: M1, name: 'cpu.load_pct', fromMs: anchor, toMs: anchor + 2 * HOUR, stepMs: 15_000 })
    tt.equal(kept[0]?.points.length, recent.length, 'samples inside the retention stay')
  })

  t.test(`${name}: at VIGIE_MAX_SERIES_TOTAL every series stores; past it points of new series are dropped and counted, known series keep storing`, async (tt) => {
    const dropped: Array<[string, number, number]> = []
    const { store, settle } = await open(tt, { maxSeriesTotal: 4, onGlobalSeriesLimit: (m, limit, n) => { dropped.push([m, limit, n]) } })
    const at = anchor + 10 * MIN
    const fs = (machineId: string, mount: string, atMs: number, value: number): SamplePoint => ({ machineId, name: 'fs.used_pct', labels: { mount }, unit: 'percent', atMs, value })
    store.append([fs(M1, '/', at, 1), fs(M1, '/home', at, 2), fs(M1, '/var', at, 3)])
    store.appendReport(M2, at, [{ name: 'fs.used_pct', unit: 'percent', value: 4, labels: { mount: '/' } }])
    tt.same(dropped, [], 'at the bound: nothing dropped')
    // one over: M2's new series is dropped (twice: append and the report path); its known series keeps storing
    store.append([fs(M2, '/', at + MIN, 5), fs(M2, '/data', at + MIN, 6)])
    store.appendReport(M2, at + 2 * MIN, [{ name: 'fs.used_pct', unit: 'percent', value: 7, labels: { mount: '/data' } }, { name: 'fs.used_pct', unit: 'percent', value: 8, labels: { mount: '/' } }])
    await settle()
    tt.same(dropped, [[M2, 4, 1], [M2, 4, 1]], 'each dropped point is reported, with the bound and the machine')
    const range = { fromMs: anchor, toMs: anchor + HOUR, stepMs: MIN, name: 'fs.used_pct' }
    tt.equal(await store.countSeries(M1, 'fs.used_pct') + await store.countSeries(M2, 'fs.used_pct'), 4, 'four series stored')
    const m2 = await store.query({ ...range, machineId: M2 })
    tt.same(m2.map((r) => [r.labels, r.points]), [[{ mount: '/' }, [[at, 4], [at + MIN, 5], [at + 2 * MIN, 8]]]], 'the known series kept every point; the new one has none')
    const m1 = await store.query({ ...range, machineId: M1 })
    tt.equal(m1.length, 3, "the other machine's series are untouched")
  })

  t.test(`${name}: at VIGIE_MAX_SERIES_PER_MACHINE a machine's new series are dropped, told once; other machines go on`, async (tt) => {
    const limited: Array<[string, number]> = []
    const { store, settle } = await open(tt, { maxSeriesPerMachine: 2, onSeriesLimit: (m, limit) => { limited.push([m, limit]) } })
    const at = anchor + 10 * MIN
    const p = (machineId: string, i: number, atMs = at): SamplePoint => ({ machineId, name: 'proc.rss_bytes', labels: { pid: String(i) }, unit: 'bytes', atMs, value: i })
    store.append([p(M1, 1), p(M1, 2)])
    tt.same(limited, [], 'at the bound: nothing dropped')
    store.append([p(M1, 3), p(M1, 4), p(M1, 1, at + MIN)])
    store.append([p(M1, 5)])
    store.append([p(M2, 1), p(M2, 2)])
    await settle()
    tt.same(limited, [[M1, 2]], 'told once, for that machine')
    const range = { fromMs: anchor, toMs: anchor + HOUR, stepMs: MIN, name: 'proc.rss_bytes' }
    const m1 = await store.query({ ...range, machineId: M1 })
    tt.same(m1.map((r) => [r.labels, r.points.length]), [[{ pid: '1' }, 2], [{ pid: '2' }, 1]], 'its two series, the known one still storing')
    tt.equal((await store.query({ ...range, machineId: M2 })).length, 2, 'another machine has its own bound')
  })

  t.test(`${name}: answers a query of 10,000 buckets whole, in order, however it reads it`, async (tt) => {
    const { store, settle } = await open(tt)
    const points: SamplePoint[] = []
    for (let i = 0; i < 10_000; i++) {
      for (const core of ['0', '1']) points.push({ machineId: M1, name: 'cpu.core_pct', labels: { core }, unit: 'percent', atMs: anchor + i * 1000, value: (i * 13 + Number(core)) % 97 })
    }
    store.append(points)
    await settle()
    // from mid-bucket: the first bucket is partial, the others whole
    const res = byKey(await store.query({ machineId: M1, name: 'cpu.core_pct', fromMs: anchor + 500, toMs: anchor + 10_000_000, stepMs: 1000 }))
    tt.equal(res.length, 2, 'both series')
    for (const r of res) {
      const core = r.labels.core
      sameSeries(tt, r.points, expected(points.filter((p) => p.labels.core === core), anchor + 500, anchor + 10_000_000, 1000, 'avg'), `core ${core}`)
    }
  })

  t.test(`${name}: reports ready with no backlog once settled`, async (tt) => {
    const { store, settle } = await open(tt)
    store.append(cpuSeries(anchor))
    await settle()
    const s = store.status()
    tt.equal(s.ready, true, 'ready')
    tt.equal(s.backlog, 0, 'nothing waiting')
    tt.not(s.accepting, false, 'accepting appends')
    tt.equal(s.lastError, undefined, 'no error')
  })
}
