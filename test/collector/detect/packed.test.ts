/**
 * The collector hands reports to the engine's thread as a layout plus a run of
 * values (observePacked); replay and tests use whole reports (observeReport).
 * Both must judge alike: same findings, same learned state, including across a
 * layout change and a host change.
 */
import t from 'tap'
import { DetectionEngine, type PackedHost } from '../../../collector/detect/engine.js'
import { layoutOf, type MetricLayout } from '../../../collector/store/metric-layout.js'
import type { MetricValue } from '../../../protocol/index.js'
import { makeReport } from '../../helpers/reports.js'

const T0 = Date.UTC(2026, 10, 2, 0, 0, 0)
const STEP = 60_000

function metricsAt (machine: number, i: number): MetricValue[] {
  const out: MetricValue[] = [
    { name: 'cpu.load_pct', unit: 'percent', value: 20 + 10 * Math.sin(i / 50 + machine) + (i === 700 ? 75 : 0) },
    { name: 'mem.used_pct', unit: 'percent', value: 40 + (i % 7) },
    // machine 1's disk fills towards the end: threshold and forecast findings
    { name: 'fs.used_pct', unit: 'percent', value: machine === 1 ? Math.min(99, 50 + Math.max(0, i - 500) / 5) : 55, labels: { mount: '/' } },
    { name: 'temp.cpu_c', unit: 'celsius', value: 50 + (i % 11) / 2 }
  ]
  // from report 400 on, a second disk appears in the middle of the layout
  if (i >= 400) out.splice(3, 0, { name: 'fs.used_pct', unit: 'percent', value: 30 + (i % 3), labels: { mount: '/data' } })
  return out
}

t.test('observePacked and observeReport give the same findings and the same state', async t => {
  const byReport = new DetectionEngine({ now: () => T0 })
  const packed = new DetectionEngine({ now: () => T0 })
  const found: { report: unknown[], packed: unknown[] } = { report: [], packed: [] }
  const layouts = new Map<string, { key: string, layout: MetricLayout }>()
  const hosts = new Map<string, { key: string, host: PackedHost }>()
  for (let i = 0; i < 900; i++) {
    for (let machine = 0; machine < 3; machine++) {
      const id = `m${machine}`
      const atMs = T0 + i * STEP
      const report = makeReport(id, i + 1, { atMs, metrics: metricsAt(machine, i) })
      // machine 2 is moved to another group half way
      const group = machine === 2 && i >= 450 ? 'lab' : 'office'
      report.host = { ...report.host, group }
      found.report.push(...byReport.observeReport(id, report, atMs, group))

      // what the collector's detection client and worker keep: one layout and one
      // host object per machine, replaced only when they change
      const key = JSON.stringify(report.metrics.map(m => [m.name, m.unit, m.labels]))
      if (layouts.get(id)?.key !== key) {
        layouts.set(id, { key, layout: layoutOf(report.metrics) })
      }
      const h = report.host
      const hostKey = JSON.stringify([h.group, h.model, h.osVersion, h.memTotalBytes])
      if (hosts.get(id)?.key !== hostKey) hosts.set(id, { key: hostKey, host: { group: h.group, model: h.model, osVersion: h.osVersion, memTotalBytes: h.memTotalBytes } })
      const values = Float64Array.from(report.metrics.map(m => m.value))
      found.packed.push(...packed.observePacked(id, layouts.get(id)!.layout, values, 0, atMs, atMs, hosts.get(id)!.host))
    }
    if (i % 60 === 59) {
      found.report.push(...byReport.tick(T0 + i * STEP))
      found.packed.push(...packed.tick(T0 + i * STEP))
    }
  }
  t.ok(found.report.length >= 3, `the run has findings to compare (${found.report.length})`)
  t.same(found.packed, found.report, 'the same findings, in the same order')
  for (const id of ['m0', 'm1', 'm2']) t.same(packed.exportMachine(id), byReport.exportMachine(id), `${id}: the same learned state`)
  t.equal(packed.seriesCount, byReport.seriesCount)
})
