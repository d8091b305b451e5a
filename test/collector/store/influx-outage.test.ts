// InfluxDB going away and coming back: the durable outbox keeps every accepted sample and replays it in order.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { openDb, type Db } from '../../../collector/store/sqlite/db.js'
import { MetricOutbox } from '../../../collector/store/sqlite/outbox.js'
import { SeriesRegistry } from '../../../collector/store/sqlite/series-registry.js'
import { InfluxMetricStore } from '../../../collector/store/influx/influx-metric-store.js'
import type { SamplePoint } from '../../../collector/store/metric-store.js'
import { startInfluxd } from '../../helpers/influxd.js'
import { waitFor } from '../../helpers/wait.js'

const influxd = await startInfluxd(t)
const dir = await mkdtemp(join(tmpdir(), 'vigie-outage-'))
t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
let n = 0

const MACHINES = Array.from({ length: 20 }, (_, i) => `m_${(0x3f2a00 + i).toString(16)}`)
const METRICS: Array<Pick<SamplePoint, 'name' | 'labels' | 'unit'>> = [
  { name: 'cpu.load_pct', labels: {}, unit: 'percent' },
  { name: 'mem.used_pct', labels: {}, unit: 'percent' },
  { name: 'fs.used_pct', labels: { mount: '/' }, unit: 'percent' },
  { name: 'net.rx_bytes_per_sec', labels: { iface: 'eth0' }, unit: 'bytes_per_second' },
  { name: 'net.tx_bytes_per_sec', labels: { iface: 'eth0' }, unit: 'bytes_per_second' }
]

/** One collection round of the whole fleet: 100 points at one instant. */
function round (r: number, base: number): SamplePoint[] {
  return MACHINES.flatMap((machineId, mi) => METRICS.map((m, ki) => ({ ...m, machineId, atMs: base + r * 15_000, value: r * 1000 + mi * 10 + ki + 0.25 })))
}

interface Opened { store: InfluxMetricStore, db: Db, database: string }

function open (t: Test, database: string, file: string, maxBacklog = 1_000_000): Opened {
  const db = openDb(file)
  const store = new InfluxMetricStore({
    url: influxd.url,
    database,
    outbox: new MetricOutbox(db),
    series: new SeriesRegistry(db),
    rawRetentionDays: 7,
    flushIntervalMs: 50,
    batchSize: 500,
    maxBacklog,
    requestTimeoutMs: 2000,
    backoffInitialMs: 50,
    backoffMaxMs: 400
  })
  t.teardown(async () => { await store.close(); if (db.open) db.close() })
  return { store, db, database }
}

/** Waits (bounded) for a condition; resolves with how long it took. */
async function until (what: string, cond: () => boolean, boundMs: number): Promise<number> {
  const start = Date.now()
  await waitFor(() => cond(), { what, timeoutMs: boundMs, intervalMs: 20 })
  return Date.now() - start
}

/** Every appended sample is in InfluxDB exactly once, with its value. */
async function assertAllPresent (t: Test, store: InfluxMetricStore, rounds: number, base: number): Promise<void> {
  let missing = 0
  let extra = 0
  let wrong = 0
  for (const [mi, machineId] of MACHINES.entries()) {
    for (const [ki, m] of METRICS.entries()) {
      const res = await store.query({ machineId, name: m.name, labels: m.labels, fromMs: base, toMs: base + rounds * 15_000, stepMs: 15_000, aggregate: 'last' })
      const got = new Map(res[0]?.points ?? [])
      if (res.length > 1) extra += res.length - 1
      for (let r = 0; r < rounds; r++) {
        const v = got.get(base + r * 15_000)
        if (v === undefined) missing++
        else if (v !== r * 1000 + mi * 10 + ki + 0.25) wrong++
        got.delete(base + r * 15_000)
      }
      extra += got.size
    }
  }
  t.same({ missing, extra, wrong }, { missing: 0, extra: 0, wrong: 0 }, `all ${rounds * 100} samples present once with their values`)
}

t.test('keeps accepting samples while InfluxDB is down and ships each exactly once when it is back', async (t) => {
  const { store, db } = open(t, `outage_${++n}`, join(dir, `outage-${n}.db`))
  await store.start()
  t.equal(store.status().ready, true, 'ready while InfluxDB is up')
  const base = Math.floor(Date.now() / 15_000) * 15_000 - 60 * 15_000
  // The ingest path: each report's samples go in with the report's own row, in one transaction.
  const ingest = db.transaction((points: SamplePoint[]) => { store.append(points) })
  for (let r = 0; r < 20; r++) ingest(round(r, base))
  await store.flush(10_000)

  await influxd.stop()
  const outageStart = Date.now()
  for (let r = 20; r < 50; r++) ingest(round(r, base))
  const detectMs = await until('status turns not ready', () => !store.status().ready, 10_000)
  const during = store.status()
  t.equal(during.ready, false, 'not ready while InfluxDB is down')
  t.equal(during.accepting, true, 'still accepting: the outbox has room')
  t.ok(during.backlog > 0, `backlog grows (${during.backlog} points waiting)`)
  t.match(during.lastError ?? '', /cannot reach InfluxDB/, 'lastError says InfluxDB cannot be reached')
  for (let r = 50; r < 60; r++) ingest(round(r, base))
  const peak = store.status().backlog
  t.equal(peak, 4000, 'every sample accepted during the outage waits in the outbox')

  await influxd.start()
  const restartedAt = Date.now()
  const drainMs = await until('backlog drains to 0', () => store.status().backlog === 0, 30_000)
  await until('ready again', () => store.status().ready, 10_000)
  t.equal(store.status().lastError, undefined, 'the error clears')
  t.comment(`outage ${restartedAt - outageStart} ms, detected in ${detectMs} ms, peak backlog ${peak} points, drained ${drainMs} ms after restart`)
  await store.flush(10_000)
  await assertAllPresent(t, store, 60, base)
})

t.test('starts degraded while InfluxDB is down and catches up once it comes up', async (t) => {
  await influxd.stop()
  const { store } = open(t, `outage_${++n}`, join(dir, `outage-${n}.db`))
  const started = Date.now()
  await store.start()
  t.ok(Date.now() - started < 5000, 'start() does not wait for InfluxDB')
  const s = store.status()
  t.equal(s.ready, false, 'not ready')
  t.match(s.lastError ?? '', /^listing databases at http:\/\/127\.0\.0\.1:\d+\/: cannot reach InfluxDB \((connect ECONNREFUSED|socket hang up)/, 'says what failed and where')
  const base = Math.floor(Date.now() / 15_000) * 15_000 - 10 * 15_000
  for (let r = 0; r < 10; r++) store.append(round(r, base))
  t.equal(store.status().backlog, 1000, 'samples are accepted into the outbox meanwhile')
  await influxd.start()
  await until('ready and drained', () => store.status().ready && store.status().backlog === 0, 30_000)
  await store.flush(10_000)
  await assertAllPresent(t, store, 10, base)
})

t.test('refuses samples beyond maxBacklog with a coded error and keeps every sample it accepted', async (t) => {
  const { store } = open(t, `outage_${++n}`, join(dir, `outage-${n}.db`), 300)
  await store.start()
  await influxd.stop()
  const base = Math.floor(Date.now() / 15_000) * 15_000 - 10 * 15_000
  for (let r = 0; r < 3; r++) store.append(round(r, base))
  t.throws(() => { store.append(round(3, base)) }, { code: 'VIGIE_ERR_METRIC_BACKLOG_FULL', statusCode: 503 }, 'the 301st point is refused with a 503 code')
  const s = store.status()
  t.same([s.ready, s.accepting, s.backlog], [false, false, 300], 'not ready, not accepting, backlog at the bound')
  t.match(s.lastError ?? '', /metric outbox full \(300 of 300 points\)/, 'lastError names the full outbox')
  await influxd.start()
  await until('drained', () => store.status().backlog === 0, 30_000)
  t.doesNotThrow(() => { store.append(round(3, base)) }, 'accepts again once drained')
  await store.flush(10_000)
  await assertAllPresent(t, store, 4, base)
})

t.test('ships what a previous collector process left in the outbox', async (t) => {
  const database = `outage_${++n}`
  const file = join(dir, `outage-${n}.db`)
  const first = open(t, database, file)
  await first.store.start()
  await influxd.stop()
  const base = Math.floor(Date.now() / 15_000) * 15_000 - 10 * 15_000
  for (let r = 0; r < 10; r++) first.store.append(round(r, base))
  await first.store.close()
  first.db.close()

  await influxd.start()
  const second = open(t, database, file)
  t.equal(second.store.status().backlog, 1000, 'the outbox survived the restart')
  await second.store.start()
  await until('drained', () => second.store.status().backlog === 0, 30_000)
  await assertAllPresent(t, second.store, 10, base)
})

t.test('takes back outbox rows when the ingest transaction rolls back', async (t) => {
  const { store, db } = open(t, `outage_${++n}`, join(dir, `outage-${n}.db`))
  await influxd.stop()
  await store.start()
  const base = Math.floor(Date.now() / 15_000) * 15_000 - 10 * 15_000
  const ingest = db.transaction((points: SamplePoint[], fail: boolean) => {
    store.append(points)
    if (fail) throw new Error('duplicate report')
  })
  ingest(round(0, base), false)
  t.throws(() => { ingest(round(1, base), true) }, /duplicate report/)
  ingest(round(2, base), false)
  t.equal(store.status().backlog, 200, 'only the committed reports wait')
  await influxd.start()
  await until('drained', () => store.status().backlog === 0, 30_000)
  const res = await store.query({ machineId: MACHINES[0], name: 'cpu.load_pct', fromMs: base, toMs: base + 3 * 15_000, stepMs: 15_000 })
  t.same(res[0]?.points.map((p) => p[0]), [base, base + 30_000], 'the rolled-back round never reaches InfluxDB')
})
