/**
 * The detection engine in its worker thread, as the collector drives it: findings
 * come back for stored reports, and when detection is too far behind, reports skip
 * it (counted) instead of queueing without bound.
 */
import t from 'tap'
import { DetectionClient } from '../../../collector/detect/remote.js'
import type { Finding } from '../../../collector/detect/engine.js'
import { makeReport } from '../../helpers/reports.js'
import { LatestValues } from '../../../collector/store/latest-values.js'

const MIN = 60_000
const T0 = Date.UTC(2026, 10, 28, 8, 0, 0)
const disk = (value: number) => [{ name: 'fs.used_pct', unit: 'percent' as const, value, labels: { mount: '/' } }]

t.test('a disk held past its rule opens one finding, after the worker observed the reports', async t => {
  const findings: Finding[] = []
  const warnings: string[] = []
  const engine = new DetectionClient({ maxSeriesPerMachine: 100, onFindings: (f) => { findings.push(...f) }, onWarn: (m) => { warnings.push(m) } })
  t.teardown(() => engine.close())
  for (let i = 0; i <= 6; i++) {
    const atMs = T0 + i * MIN
    engine.observe('m1', atMs, [{ report: makeReport('m1', i + 1, { atMs, metrics: disk(98) }), atMs }])
  }
  t.ok(engine.backlog > 0, 'the reports wait for the worker')
  await engine.idle()
  t.equal(engine.backlog, 0, 'all observed')
  const opened = findings.filter(f => f.state === 'open' && f.key === 'rule:disk_full:fs.used_pct{mount="/"}')
  t.equal(opened.length, 1, 'one disk_full finding')
  t.equal(opened[0].machineId, 'm1')
  t.ok(await engine.seriesCount() >= 1, 'the engine holds state for the series')
  const state = await engine.exportMachine('m1') as { series: Array<[string, unknown]> }
  t.same(state.series.map(s => s[0]), ['fs.used_pct{mount="/"}'], 'its state can be exported for saving')
  t.same(warnings, [])
})

t.test('beyond the backlog bound, reports skip detection and are counted; detection resumes once caught up', async t => {
  let skipped = 0
  const engine = new DetectionClient({ maxSeriesPerMachine: 100, maxBacklog: 2, onFindings: () => {}, onWarn: () => {}, onSkipped: (n) => { skipped += n } })
  t.teardown(() => engine.close())
  const send = (seq: number): void => {
    const atMs = T0 + seq * MIN
    engine.observe('m2', atMs, [{ report: makeReport('m2', seq, { atMs, metrics: disk(50) }), atMs }])
  }
  send(1)
  send(2)
  send(3)
  send(4)
  t.equal(skipped, 2, 'the third and fourth report skipped detection')
  t.equal(engine.backlog, 2, 'the queue stayed at its bound')
  await engine.idle()
  t.equal(engine.backlog, 0)
  send(5)
  t.equal(skipped, 2, 'accepted again once the worker caught up')
  await engine.idle()
})

t.test("with the registry's layout key, a machine's new layout still reaches the worker: findings name the new series", async t => {
  const findings: Finding[] = []
  const warnings: string[] = []
  const engine = new DetectionClient({ maxSeriesPerMachine: 100, onFindings: (f) => { findings.push(...f) }, onWarn: (m) => { warnings.push(m) } })
  t.teardown(() => engine.close())
  // Two layouts of the same size: the mount label differs, so only a layout sent
  // again lets the worker name the series right.
  const mount = (m: string, value: number) => [{ name: 'fs.used_pct', unit: 'percent' as const, value, labels: { mount: m } }]
  let prev: LatestValues | undefined
  const send = (seq: number, metrics: ReturnType<typeof mount>): void => {
    const atMs = T0 + seq * MIN
    const latest = LatestValues.of(metrics, prev)
    prev = latest
    engine.observe('m3', atMs, [{ report: makeReport('m3', seq, { atMs, metrics }), atMs, latest }])
  }
  for (let i = 1; i <= 3; i++) send(i, mount('/', 50))
  for (let i = 4; i <= 11; i++) send(i, mount('/data', 98))
  await engine.idle()
  const keys = findings.filter(f => f.state === 'open' && f.kind === 'threshold').map(f => f.key)
  t.same(keys, ['rule:disk_full:fs.used_pct{mount="/data"}'], 'the full disk is /data, not /')
  const state = await engine.exportMachine('m3') as { series: Array<[string, unknown]> }
  t.same(state.series.map(s => s[0]).sort(), ['fs.used_pct{mount="/"}', 'fs.used_pct{mount="/data"}'], 'both series observed under their own names')
  t.same(warnings, [])
})

t.test('a hand-over larger than the packed buffers (1,750 reports, 71,750 values) keeps every value with its report', async t => {
  const findings: Finding[] = []
  const warnings: string[] = []
  const engine = new DetectionClient({ maxSeriesPerMachine: 100, onFindings: (f) => { findings.push(...f) }, onWarn: (m) => { warnings.push(m) } })
  t.teardown(() => engine.close())
  const filler = Array.from({ length: 40 }, (_, k) => ({ name: `app.gauge_${k}`, unit: 'count' as const, value: k }))
  // All in one event-loop turn, so in one hand-over. Every disk is full but m7's: a
  // value lost or moved to another report would keep a machine from its finding or
  // give m7 one.
  for (let i = 0; i <= 6; i++) {
    for (let m = 0; m < 250; m++) {
      const atMs = T0 + i * MIN
      const metrics = [...filler, ...disk(m === 7 ? 50 : 98)]
      engine.observe(`m${m}`, atMs, [{ report: makeReport(`m${m}`, i + 1, { atMs, metrics }), atMs }])
    }
  }
  await engine.idle()
  t.equal(engine.backlog, 0, 'all 1,750 observed')
  const opened = new Set(findings.filter(f => f.state === 'open' && f.kind === 'threshold').map(f => f.machineId))
  t.equal(opened.size, 249, 'a disk_full finding for each of the 249 full disks')
  t.notOk(opened.has('m7'), 'none for m7')
  t.same(findings.filter(f => f.state === 'clear').map(f => f.machineId), [], 'and no disk seen back to normal: no value was lost')
  t.same(warnings, [])
})
