import t from 'tap'
import { DetectionEngine, type Finding } from '../../../collector/detect/engine.js'
import { MINUTE_MS, makeFlatReports } from './fixtures/meaningful.js'

t.test('a flat disk that moves by a hair opens nothing, one that jumps by 20 points does', async (t) => {
  const e = new DetectionEngine()
  const found: Finding[] = []
  const start = Date.UTC(2024, 0, 1)
  // Three days at 44.34 %, then 44.39 % (a log rotated): not news.
  for (const r of makeFlatReports('pc1', start, 3 * 1440, 44.34)) found.push(...e.observeReport('pc1', r, Date.parse(r.sampledAt)))
  const tiny = makeFlatReports('pc1', start + 3 * 1440 * MINUTE_MS, 60, 44.39)
  for (const r of tiny) found.push(...e.observeReport('pc1', r, Date.parse(r.sampledAt)))
  t.same(found.filter(f => f.kind === 'anomaly'), [], 'no anomaly for a 0.05-point change')
  // Then 64 %: 20 GB copied onto the disk in a minute.
  const big = makeFlatReports('pc1', start + (3 * 1440 + 60) * MINUTE_MS, 5, 64.4)
  for (const r of big) found.push(...e.observeReport('pc1', r, Date.parse(r.sampledAt)))
  const anomalies = found.filter(f => f.kind === 'anomaly' && f.state === 'open')
  t.equal(anomalies.length, 1, 'one anomaly for the jump')
  t.equal(anomalies[0].series, 'fs.used_pct{mount="/"}')
})

t.test('static and redundant metrics get no learned baseline', async (t) => {
  const e = new DetectionEngine()
  const start = Date.UTC(2024, 0, 1)
  for (const r of makeFlatReports('pc1', start, 10, 50)) e.observeReport('pc1', r, Date.parse(r.sampledAt))
  const state = e.exportMachine('pc1') as { series: Array<[string, { b?: unknown }]> }
  const withBaseline = state.series.filter(([, s]) => s.b !== undefined).map(([k]) => k)
  t.ok(withBaseline.includes('fs.used_pct{mount="/"}'))
  t.notOk(withBaseline.some(k => k.startsWith('fs.size_bytes') || k.startsWith('mem.total_bytes') || k.startsWith('proc.')), `no baseline on static or per-process series (${withBaseline.join(', ')})`)
})
