import t from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import type { SamplePoint } from '../../../collector/store/metric-store.js'

const DAY = 86_400_000

t.test('history older than the raw retention is still answered, from 5-minute rollups with the same averages', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const store = new SqliteMetricStore(db, { retentionDays: 7, rollupRetentionDays: 60 })
  const now = Date.UTC(2026, 10, 28, 12, 0, 0)
  const points: SamplePoint[] = []
  // 20 days of a daily wave sampled every minute.
  for (let at = now - 20 * DAY; at < now; at += 60_000) {
    points.push({ machineId: 'm1', name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: at, value: 50 + 40 * Math.sin(2 * Math.PI * (at % DAY) / DAY) })
  }
  db.transaction(() => { store.append(points) })()
  const q = { machineId: 'm1', name: 'cpu.load_pct', fromMs: now - 20 * DAY, toMs: now, stepMs: DAY }
  const before = (await store.query(q))[0]
  const maxBefore = (await store.query({ ...q, aggregate: 'max' }))[0]

  const pruned = await store.prune(now)
  t.ok(pruned > 12 * 1440, `raw samples older than 7 days were pruned (${pruned})`)
  const rawLeft = db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number } // one value per frame here
  t.ok(rawLeft.n <= 7 * 1440 + 5 && rawLeft.n >= 7 * 1440 - 5, 'about 7 days of raw samples remain')

  const after = (await store.query(q))[0]
  t.equal(after.resolution, '5m', 'the answer says it used rollups')
  t.equal(after.points.length, before.points.length, 'every day still has a point')
  for (let i = 0; i < after.points.length; i++) {
    t.equal(after.points[i][0], before.points[i][0])
    t.ok(Math.abs(after.points[i][1] - before.points[i][1]) < 1e-9, `day ${i}: same average`)
  }
  const maxAfter = (await store.query({ ...q, aggregate: 'max' }))[0]
  t.same(maxAfter.points, maxBefore.points, 'max survives the rollup')

  const recent = (await store.query({ ...q, fromMs: now - DAY, stepMs: 60_000 }))[0]
  t.equal(recent.resolution, 'raw', 'recent ranges still come from raw samples')
  t.equal(recent.points.length, 1440)

  const fine = (await store.query({ ...q, fromMs: now - 15 * DAY, toMs: now - 14 * DAY, stepMs: 60_000 }))[0]
  t.equal(fine.points.length, 288, 'a one-minute step on old data gets 5-minute points')

  // A late sample (an agent's spool) for an already rolled bucket is merged on the next prune.
  db.transaction(() => { store.append([{ machineId: 'm1', name: 'cpu.load_pct', labels: {}, unit: 'percent', atMs: now - 15 * DAY + 30_000, value: 1000 }]) })()
  await store.prune(now)
  const merged = (await store.query({ ...q, fromMs: now - 15 * DAY, toMs: now - 15 * DAY + 300_000, stepMs: 300_000, aggregate: 'max' }))[0]
  t.same(merged.points.map(p => p[1]), [1000], 'the late sample is in its bucket')

  await store.prune(now + 81 * DAY)
  const gone = (await store.query(q))[0]
  t.equal(gone.points.length, 0, 'rollups past their own retention are dropped')
})
