import t from 'tap'
import { DetectionEngine, type Finding } from '../../../collector/detect/engine.js'
import { DAY, MIN, MONDAY, makeReport, metric, rng } from './fixtures/fleet.js'

/** A small fleet's day of reports, with a disk filling, a CPU jump and a hot laptop. */
function* reports (fromMs: number, toMs: number): Generator<[string, ReturnType<typeof makeReport>]> {
  const r = rng(Math.floor(fromMs / MIN))
  for (let at = fromMs; at < toMs; at += 5 * MIN) {
    for (let m = 0; m < 6; m++) {
      const id = `pc${m}`
      const d = (at - MONDAY) / DAY
      yield [id, makeReport(id, at, [
        metric('cpu.load_pct', (m === 1 && d > 2.5 ? 40 : 10) + r() * 5),
        metric('temp.cpu_c', 50 + (m === 2 ? 14 : 0) + r() * 2, undefined, 'celsius'),
        metric('fs.used_pct', m === 0 ? 50 + 10 * d : 40 + r(), { mount: '/' })
      ], { apps: at === MONDAY ? [{ name: 'AcmeSync', version: '1.2' }] : undefined })]
    }
  }
}

function run (e: DetectionEngine, fromMs: number, toMs: number): Finding[] {
  const out: Finding[] = []
  for (const [id, rep] of reports(fromMs, toMs)) {
    out.push(...e.observeReport(id, rep, Date.parse(rep.sampledAt) + 500))
    const at = Date.parse(rep.sampledAt)
    if (id === 'pc5' && (at / MIN) % 30 === 0) out.push(...e.tick(at))
  }
  return out
}

void t.test('an engine restored from exported state gives the same findings as one that kept running', async (t) => {
  const split = MONDAY + 2 * DAY
  const a = new DetectionEngine()
  run(a, MONDAY, split)
  const json = JSON.stringify(a.exportState())
  const b = new DetectionEngine()
  b.importState(JSON.parse(json))
  const fromA = run(a, split, MONDAY + 4 * DAY)
  const fromB = run(b, split, MONDAY + 4 * DAY)
  t.ok(fromA.length > 0, `the continuation has findings to compare (${fromA.length})`)
  t.same(fromB, fromA)
  t.equal(JSON.stringify(b.exportState()), JSON.stringify(a.exportState()), 'and ends in the same state')
})

void t.test('state per series stays within 4 KB however long the series runs', async (t) => {
  const e = new DetectionEngine()
  const r = rng(3)
  const sizes: number[] = []
  for (let i = 0; i < 30 * 288; i++) {
    const at = MONDAY + i * 5 * MIN
    e.observePoint('pc1', 'cpu.load_pct', at, 10 + r() * 5)
    e.observePoint('pc1', 'fs.used_pct{mount="/"}', at, 40 + i / 1000)
    e.observePoint('pc1', 'mem.used_pct', at, 60 + r() * 10)
    if (i % 2880 === 0) sizes.push(JSON.stringify(e.exportState()).length / e.seriesCount)
  }
  const end = JSON.stringify(e.exportState()).length / e.seriesCount
  t.ok(end <= 4096, `${Math.round(end)} bytes per series`)
  t.ok(end <= sizes[1] * 1.05, 'does not grow with history')
})

void t.test('importing a state of another version starts fresh instead of failing', async (t) => {
  const e = new DetectionEngine()
  e.importState({ v: 99, series: 'garbage' })
  e.importState(null)
  t.same(e.observePoint('pc1', 'cpu.load_pct', MONDAY, 5), [])
})
