/**
 * The InfluxDB store's budgets, beyond the contract: a query is read in windows,
 * so no single InfluxDB answer carries the whole range (counted on the server's
 * own request statistics); the series registry survives a restart of the store
 * and forgets the series of a rolled-back ingest.
 */
import t, { type Test } from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { MetricOutbox } from '../../../collector/store/sqlite/outbox.js'
import { SeriesRegistry } from '../../../collector/store/sqlite/series-registry.js'
import { InfluxMetricStore, QUERY_WINDOW_POINTS } from '../../../collector/store/influx/influx-metric-store.js'
import type { SamplePoint } from '../../../collector/store/metric-store.js'
import { startInfluxd } from '../../helpers/influxd.js'

const influxd = await startInfluxd(t)
let n = 0
const HOUR = 3_600_000

/** The server's own count of query requests and of the bytes it answered them with (GET /debug/vars). */
async function queryStats (): Promise<{ requests: number, bytes: number }> {
  const vars = await (await fetch(`${influxd.url}/debug/vars`)).json() as Record<string, { name?: string, values?: Record<string, number> }>
  const httpd = Object.values(vars).find((v) => v.name === 'httpd')
  return { requests: httpd?.values?.queryReq ?? NaN, bytes: httpd?.values?.queryRespBytes ?? NaN }
}

function open (t: Test, db = openDb(':memory:'), opts: ConstructorParameters<typeof SeriesRegistry>[1] = {}, database = `bounds_${++n}`): { store: InfluxMetricStore, db: ReturnType<typeof openDb>, database: string } {
  const store = new InfluxMetricStore({
    url: influxd.url, database, outbox: new MetricOutbox(db), series: new SeriesRegistry(db, opts),
    rawRetentionDays: 7, flushIntervalMs: 50, batchSize: 5000, maxBacklog: 200_000
  })
  t.teardown(async () => { await store.close() })
  return { store, db, database }
}

t.test('a 10,000-bucket query of 10 series is read in windows of at most ~20,000 points, not in one answer', async t => {
  const { store } = open(t)
  await store.start()
  const anchor = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR
  const points: SamplePoint[] = []
  for (let i = 0; i < 10_000; i++) {
    for (let c = 0; c < 10; c++) points.push({ machineId: 'm_1', name: 'cpu.core_pct', labels: { core: String(c) }, unit: 'percent', atMs: anchor + i * 1000, value: i % 100 })
  }
  store.append(points)
  await store.flush(60_000)
  const before = await queryStats()
  const res = await store.query({ machineId: 'm_1', name: 'cpu.core_pct', fromMs: anchor, toMs: anchor + 10_000_000, stepMs: 1000 })
  const after = await queryStats()
  t.equal(res.length, 10)
  t.ok(res.every((r) => r.points.length === 10_000), 'every bucket of every series answered')
  const requests = after.requests - before.requests
  const bytes = after.bytes - before.bytes
  // 500 buckets first (the series count unknown yet), then 20,000 / 10 = 2,000 buckets a window
  t.equal(requests, 1 + Math.ceil((10_000 - 500) / (QUERY_WINDOW_POINTS / 10)), `read in ${requests} windows`)
  // a window of 20,000 points is ~380 kB of JSON; the whole answer in one piece was 1.9 MB
  t.ok(bytes / requests <= 400_000, `each InfluxDB answer a window's worth (${Math.round(bytes / requests)} bytes on average, ${bytes} in all)`)
})

t.test('the series bound holds across a restart of the store, and a rolled-back ingest frees its series', async t => {
  const db = openDb(':memory:')
  t.teardown(() => { db.close() })
  const dropped: number[] = []
  const opts = { maxTotal: 3, onGlobalLimit: (_m: string, _l: number, k: number) => { dropped.push(k) } }
  const first = open(t, db, opts)
  const at = Date.now() - HOUR
  const p = (i: number): SamplePoint => ({ machineId: 'm_1', name: 'proc.rss_bytes', labels: { pid: String(i) }, unit: 'bytes', atMs: at, value: i })
  first.store.append([p(1), p(2)])
  // an ingest that rolls back: its series are not kept, in the table or in the cache
  const tx = db.transaction(() => { first.store.append([p(3)]); throw new Error('rolled back') })
  t.throws(() => { tx() }, /rolled back/)
  first.store.discardCache(['m_1'])
  await first.store.close()
  const again = open(t, db, opts, first.database)
  again.store.append([p(4), p(5)])
  t.same(dropped, [1], 'after the restart: two series known, so one more fits (the rolled-back one did not count) and the next is dropped')
  const rows = db.prepare('SELECT labels_json FROM metric_series ORDER BY labels_json').all() as Array<{ labels_json: string }>
  t.same(rows.map((r) => JSON.parse(r.labels_json).pid), ['1', '2', '4'], 'the registry holds the series that were stored')
})
