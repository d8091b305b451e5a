/**
 * Budgets: a global series cap, and metric queries bounded in points and time.
 * Findings: 40 machines × 5,000 series took RSS from 190 MiB to 1.44 GiB (no
 * global cap); a viewer's 30-day metric query held the event loop ~0.5 s.
 */
import { test } from 'tap'
import { Writable } from 'node:stream'
import { testApp } from '../../helpers/app.js'
import { makeReport } from '../../helpers/reports.js'
import type { MetricValue } from '../../../protocol/index.js'

const series = (prefix: string, n: number): MetricValue[] =>
  Array.from({ length: n }, (_, i) => ({ name: 'app.queue_len', unit: 'count', value: i, labels: { q: `${prefix}-${i}` } }))

test('global series cap: at the cap all series are stored; past it new series are dropped, counted, logged once; serving goes on', async (t) => {
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l) as Record<string, unknown>); cb() } })
  const cap = 20
  const h = await testApp({ config: { maxSeriesTotal: cap, rateLimitAgentPerMin: 0 }, logger: { stream, level: 'warn' } })
  t.teardown(h.close)
  const a = h.enroll('pc-a')
  const b = h.enroll('pc-b')
  const send = async (agent: { agentId: string, token: string }, seq: number, metrics: MetricValue[]) => {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${agent.token}` }, payload: { reports: [makeReport(agent.agentId, seq, { metrics, atMs: Date.now() - 60_000 + seq })] } })
    t.equal(res.statusCode, 200, 'the report is acknowledged')
  }
  const stored = async (agentId: string) => ((await h.app.inject({ url: `/api/v1/machines/${agentId}/series`, headers: { authorization: `Bearer ${h.viewerToken}` } })).json() as { series: unknown[] }).series.length

  await send(a, 1, series('a', 15))
  await send(b, 1, series('b', 5))
  t.equal(await stored(a.agentId) + await stored(b.agentId), cap, 'at the cap every series is stored')
  t.equal(h.app.vigie.counters.get('series_dropped_global_cap'), 0)

  // one over: B's new series is dropped, its existing ones keep their points
  await send(b, 2, [...series('b', 5), ...series('b-new', 3)])
  await send(b, 3, [...series('b', 5), ...series('b-new', 3)])
  t.equal(await stored(b.agentId), 5, "new series past the global cap are not created")
  t.equal(h.app.vigie.counters.get('series_dropped_global_cap'), 6, 'every dropped point is counted')
  const metrics = await h.app.inject({ url: '/metrics' })
  t.match(metrics.body, /vigie_series_dropped_global_cap_total 6/, 'on /metrics')
  const warned = logs.filter((l) => String(l.msg).includes('VIGIE_MAX_SERIES_TOTAL') && l.machineId === b.agentId)
  t.equal(warned.length, 1, 'logged once per machine per interval, not per report')
  const q = await h.app.inject({ url: `/api/v1/machines/${b.agentId}/metrics?name=app.queue_len&from=1h`, headers: { authorization: `Bearer ${h.viewerToken}` } })
  t.equal(q.statusCode, 200, 'the collector keeps serving')
  t.equal((q.json() as { series: unknown[] }).series.length, 5)
})

test('metric queries: at most VIGIE_QUERY_MAX_POINTS points and VIGIE_QUERY_MAX_RANGE_DAYS; one over is a clear 400', async (t) => {
  const h = await testApp({ config: { queryMaxPoints: 100, queryMaxRangeDays: 2 } })
  t.teardown(h.close)
  const a = h.enroll('pc-q')
  await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, 1)] } })
  const get = (qs: string) => h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&${qs}`, headers: { authorization: `Bearer ${h.viewerToken}` } })
  const to = 1_800_000_000_000 // aligned on 1 s steps
  let r = await get(`from=${to - 100_000}&to=${to}&step=1000`)
  t.equal(r.statusCode, 200, 'exactly 100 buckets: answered')
  r = await get(`from=${to - 100_001}&to=${to}&step=1000`)
  t.equal(r.statusCode, 400, '101 buckets: refused')
  t.match(r.json(), { code: 'VIGIE_ERR_VALIDATION', message: /more than 100 points \(VIGIE_QUERY_MAX_POINTS\)/ })
  r = await get(`from=${to - 2 * 86_400_000}&to=${to}`)
  t.equal(r.statusCode, 200, 'a range of exactly 2 days: answered')
  r = await get(`from=${to - 2 * 86_400_000 - 1}&to=${to}`)
  t.equal(r.statusCode, 400, 'one ms longer: refused')
  t.match(r.json(), { code: 'VIGIE_ERR_VALIDATION', message: /longer than 2 days \(VIGIE_QUERY_MAX_RANGE_DAYS\)/ })
})

test("a dense 30-day query never holds the event loop, and stays within the point bound", async (t) => {
  const h = await testApp({ config: { retentionDays: 60 } })
  t.teardown(h.close)
  const a = h.enroll('pc-dense')
  const now = Date.now()
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, 1, { atMs: now - 1000 })] } })
  t.equal(res.statusCode, 200)
  // Seed 30 days at a 10 s cadence with direct inserts: 259,200 frames of the fixture's metrics.
  const db = h.app.vigie.db
  const frame = db.prepare('SELECT data FROM frames WHERE machine_id = ?').get(a.agentId) as { data: Buffer }
  const insert = db.prepare('INSERT OR IGNORE INTO frames (machine_id, ts, data) VALUES (?, ?, ?)')
  const start = now - 30 * 86_400_000
  db.transaction(() => { for (let ts = start; ts < now - 10_000; ts += 10_000) insert.run(a.agentId, ts, frame.data) })()
  // the seeding's WAL is checkpointed now, not during the measurement
  db.pragma('wal_checkpoint(TRUNCATE)')

  // Lag probe: the longest gap between 5 ms ticks while the query runs.
  let maxGap = 0
  let last = performance.now()
  const probe = setInterval(() => { const n = performance.now(); maxGap = Math.max(maxGap, n - last); last = n }, 5)
  const began = performance.now()
  const q = await h.app.inject({ url: `/api/v1/machines/${a.agentId}/metrics?name=cpu.load_pct&from=30d&step=5m`, headers: { authorization: `Bearer ${h.viewerToken}` } })
  const took = performance.now() - began
  clearInterval(probe)
  maxGap = Math.max(maxGap, performance.now() - last) // a query that never yielded shows here

  t.equal(q.statusCode, 200)
  const body = q.json() as { series: Array<{ points: unknown[] }> }
  t.ok(body.series[0].points.length <= 10_000, `within the point bound (${body.series[0].points.length} points)`)
  t.ok(body.series[0].points.length >= 8600, 'the whole 30 days answered')
  t.comment(`query took ${Math.round(took)} ms; longest event-loop stall ${Math.round(maxGap)} ms`)
  // Unloaded, the longest stall is a few ms (the old code: the whole query, ~0.5 s for
  // 30 days). On a shared, heavily loaded 2-core machine the OS alone can stall the
  // process a few hundred ms, so the bound is relative to the query as well as fixed.
  t.ok(maxGap <= 2000, `the event loop was never held more than 2 s even under heavy load (longest ${Math.round(maxGap)} ms)`)
  t.ok(maxGap < took / 4, `the query yielded: the longest stall (${Math.round(maxGap)} ms) is a small part of the query (${Math.round(took)} ms)`)
})
