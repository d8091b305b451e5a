import t from 'tap'
import { DetectionEngine, type Finding } from '../../../collector/detect/engine.js'
import { MIN, MONDAY, makeReport, metric, rng } from './fixtures/fleet.js'

void t.test('a laptop running 15 °C hotter than identical siblings at similar load is an outlier', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const r = rng(7)
  const found: Finding[] = []
  for (let i = 0; i < 120; i++) {
    const at = MONDAY + i * 5 * MIN
    for (let m = 0; m < 10; m++) {
      const id = `lap${m}`
      const temp = 48 + m * 0.4 + (r() - 0.5) * 3 + (id === 'lap3' ? 15 : 0)
      found.push(...e.observeReport(id, makeReport(id, at, [metric('cpu.load_pct', 12 + r() * 10), metric('temp.cpu_c', temp, undefined, 'celsius')]), at))
    }
    // a different model runs hot by design: its own cohort, never compared with the others
    found.push(...e.observeReport('ws1', makeReport('ws1', at, [metric('cpu.load_pct', 15), metric('temp.cpu_c', 75, undefined, 'celsius')], { model: 'Precision 7680' }), at))
    if (i % 6 === 0) found.push(...e.tick(at))
  }
  const outliers = found.filter((f) => f.kind === 'outlier')
  t.same(outliers.map((f) => `${f.machineId}:${f.state}`), ['lap3:open'])
  t.match(outliers[0].title, /hotter than its Latitude 5440 \/ 24\.04 siblings/)
  t.equal(outliers[0].evidence.cohortSize, 10)
})

void t.test('temperatures under heavy load are not compared', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const found: Finding[] = []
  for (let i = 0; i < 60; i++) {
    const at = MONDAY + i * 5 * MIN
    for (let m = 0; m < 8; m++) {
      const id = `lap${m}`
      const busy = id === 'lap0'
      found.push(...e.observeReport(id, makeReport(id, at, [metric('cpu.load_pct', busy ? 95 : 10), metric('temp.cpu_c', busy ? 85 : 50, undefined, 'celsius')]), at))
    }
    found.push(...e.tick(at))
  }
  t.same(found.filter((f) => f.kind === 'outlier'), [])
})

void t.test('a cohort smaller than the minimum is not judged', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const found: Finding[] = []
  for (let i = 0; i < 60; i++) {
    const at = MONDAY + i * 5 * MIN
    for (let m = 0; m < 4; m++) found.push(...e.observeReport(`lap${m}`, makeReport(`lap${m}`, at, [metric('cpu.load_pct', 10), metric('temp.cpu_c', m === 0 ? 80 : 50, undefined, 'celsius')]), at))
    found.push(...e.tick(at))
  }
  t.same(found.filter((f) => f.kind === 'outlier'), [])
})
