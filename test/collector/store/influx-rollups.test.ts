// Downsampling in a real InfluxDB 1.6: retention policies, continuous queries, and repairs for late samples.
import t from 'tap'
import type { Test } from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { MetricOutbox } from '../../../collector/store/sqlite/outbox.js'
import { SeriesRegistry } from '../../../collector/store/sqlite/series-registry.js'
import { InfluxMetricStore } from '../../../collector/store/influx/influx-metric-store.js'
import type { SamplePoint, SeriesResult } from '../../../collector/store/metric-store.js'
import { startInfluxd } from '../../helpers/influxd.js'
import { waitFor } from '../../helpers/wait.js'

const MIN = 60_000
const HOUR = 3_600_000
const influxd = await startInfluxd(t)
let n = 0

async function openStore (t: Test): Promise<{ store: InfluxMetricStore, database: string, outbox: MetricOutbox, series: SeriesRegistry }> {
  const db = openDb(':memory:')
  const outbox = new MetricOutbox(db)
  const series = new SeriesRegistry(db)
  const database = `rollups_${++n}`
  const store = new InfluxMetricStore({
    url: influxd.url,
    database,
    outbox,
    series,
    rawRetentionDays: 7,
    flushIntervalMs: 50,
    batchSize: 5000,
    maxBacklog: 100_000,
    // The test server runs continuous queries every second (run-interval 1s).
    resample: { '5m': { everyMs: 1000, forMs: 10 * MIN }, '1h': { everyMs: 1000, forMs: 2 * HOUR } }
  })
  t.teardown(async () => { await store.close(); db.close() })
  await store.start()
  return { store, database, outbox, series }
}

function bucketsOf (points: SamplePoint[], stepMs: number): Array<[number, { sum: number, n: number, min: number, max: number, last: SamplePoint }]> {
  const m = new Map<number, { sum: number, n: number, min: number, max: number, last: SamplePoint }>()
  for (const p of points) {
    const b = Math.floor(p.atMs / stepMs) * stepMs
    const cur = m.get(b)
    if (cur === undefined) m.set(b, { sum: p.value, n: 1, min: p.value, max: p.value, last: p })
    else {
      cur.sum += p.value; cur.n++; cur.min = Math.min(cur.min, p.value); cur.max = Math.max(cur.max, p.value)
      if (p.atMs > cur.last.atMs) cur.last = p
    }
  }
  return [...m.entries()].sort((a, b) => a[0] - b[0])
}

/** Poll `fn` until `ok` holds (bounded); returns the last value either way. */
async function eventually<T> (fn: () => Promise<T>, ok: (v: T) => boolean, boundMs: number): Promise<T> {
  let v = await fn()
  await waitFor(async () => { v = await fn(); return ok(v) }, { timeoutMs: boundMs, intervalMs: 100 }).catch(() => {})
  return v
}

const agg = (r: SeriesResult[]): Array<[number, number]> => r[0]?.points ?? []
const close = (a: Array<[number, number]>, b: Array<[number, number]>): boolean =>
  a.length === b.length && a.every((p, i) => p[0] === b[i][0] && Math.abs(p[1] - b[i][1]) < 1e-9)

t.test('creates the raw, 5-minute and hourly retention policies and one continuous query per rollup', async (t) => {
  const { database } = await openStore(t)
  const rps = await influxd.adminQuery(`SHOW RETENTION POLICIES ON "${database}"`) as { results: Array<{ series: Array<{ values: unknown[][] }> }> }
  const byName = Object.fromEntries(rps.results[0].series[0].values.map((v) => [v[0], { duration: v[1], isDefault: v[4] }]))
  t.same(byName.raw, { duration: '168h0m0s', isDefault: true }, 'raw: 7 days, the DEFAULT policy')
  t.same(byName.rollup_5m, { duration: '2160h0m0s', isDefault: false }, '5-minute buckets: 90 days')
  t.same(byName.rollup_1h, { duration: '17520h0m0s', isDefault: false }, 'hourly buckets: 730 days')
  const cqs = await influxd.adminQuery('SHOW CONTINUOUS QUERIES') as { results: Array<{ series: Array<{ name: string, values: string[][] }> }> }
  const ours = cqs.results[0].series.find((s) => s.name === database)?.values ?? []
  t.equal(ours.length, 2, 'two continuous queries')
  t.match(ours.map((v) => v[1]).join('\n'), /RESAMPLE EVERY 1s FOR 10m.*INTO .*rollup_5m.*GROUP BY time\(5m\)/)
  t.match(ours.map((v) => v[1]).join('\n'), /RESAMPLE EVERY 1s FOR 2h.*INTO .*rollup_1h.*GROUP BY time\(1h\)/)
})

t.test('keeps its continuous queries when started again, and replaces them when the cadence changes', async (t) => {
  const first = await openStore(t)
  const names = async (): Promise<string[]> => {
    const cqs = await influxd.adminQuery('SHOW CONTINUOUS QUERIES') as { results: Array<{ series: Array<{ name: string, values: string[][] }> }> }
    return (cqs.results[0].series.find((s) => s.name === first.database)?.values ?? []).map((v) => v[0]).sort()
  }
  const before = await names()
  const again = new InfluxMetricStore({
    url: influxd.url, database: first.database, outbox: first.outbox, series: first.series, rawRetentionDays: 7, flushIntervalMs: 50, batchSize: 5000, maxBacklog: 1000,
    resample: { '5m': { everyMs: 1000, forMs: 10 * MIN }, '1h': { everyMs: 1000, forMs: 2 * HOUR } }
  })
  await again.start()
  await again.close()
  t.same(await names(), before, 'same definition, same continuous queries')
  const changed = new InfluxMetricStore({
    url: influxd.url, database: first.database, outbox: first.outbox, series: first.series, rawRetentionDays: 7, flushIntervalMs: 50, batchSize: 5000, maxBacklog: 1000
  })
  await changed.start()
  await changed.close()
  const after = await names()
  t.equal(after.length, 2, 'still exactly two')
  t.notSame(after, before, 'the production cadence replaced the test cadence')
})

t.test('continuous queries roll fresh samples into 5-minute and hourly buckets', async (t) => {
  const { store } = await openStore(t)
  const now = Date.now()
  const points: SamplePoint[] = Array.from({ length: 30 }, (_, i) => ({
    machineId: 'm_3f2a', name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: now - 29_000 + i * 1000, value: (i * 7) % 13 + 0.5
  }))
  store.append(points)
  await store.flush(10_000)
  t.equal(store.stats().pendingRepairs, 0, 'fresh samples need no repair: the continuous queries must do it')
  for (const [stepMs, resolution] of [[5 * MIN, '5m'], [HOUR, '1h']] as const) {
    const want = bucketsOf(points, stepMs)
    const range = { machineId: 'm_3f2a', name: 'cpu.load_pct', fromMs: want[0][0], toMs: now + stepMs, stepMs }
    for (const aggregate of ['avg', 'min', 'max', 'last'] as const) {
      const expected: Array<[number, number]> = want.map(([b, s]) =>
        [b, aggregate === 'avg' ? s.sum / s.n : aggregate === 'min' ? s.min : aggregate === 'max' ? s.max : s.last.value])
      const res = await eventually(async () => await store.query({ ...range, aggregate }), (r) => close(agg(r), expected), 20_000)
      t.equal(res[0]?.resolution, resolution, `${resolution} ${aggregate}: answered from the rollup`)
      t.same(agg(res), expected, `${resolution} ${aggregate}: the continuous query's buckets hold every sample`)
    }
  }
})

t.test('rolls up late samples at once, and again when more arrive for the same buckets', async (t) => {
  const { store } = await openStore(t)
  const start = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR
  const first: SamplePoint[] = Array.from({ length: 240 }, (_, i) => ({
    machineId: 'm_3f2a', name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent', atMs: start + i * 15_000, value: 40 + (i % 17)
  }))
  store.append(first)
  await store.flush(10_000)
  const check = async (points: SamplePoint[], what: string): Promise<void> => {
    for (const stepMs of [5 * MIN, HOUR]) {
      const res = await store.query({ machineId: 'm_3f2a', name: 'fs.used_pct', labels: { mount: '/' }, fromMs: start, toMs: start + 2 * HOUR, stepMs, aggregate: 'avg' })
      t.equal(res[0]?.resolution, stepMs === HOUR ? '1h' : '5m', `${what}: read from the rollup`)
      t.same(agg(res), bucketsOf(points, stepMs).map(([b, s]) => [b, s.sum / s.n]), `${what}: ${stepMs / MIN}-minute averages include every sample`)
    }
  }
  await check(first, 'five hours late')
  // An agent's spool replays a second burst into the same hour.
  const second: SamplePoint[] = Array.from({ length: 20 }, (_, i) => ({
    machineId: 'm_3f2a', name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent', atMs: start + 7_500 + i * 15_000, value: 99
  }))
  store.append(second)
  await store.flush(10_000)
  await check([...first, ...second], 'after a second late burst')
})
