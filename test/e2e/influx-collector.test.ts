import t from 'tap'
import os from 'node:os'
import { spawnAgent, spawnCollector, api } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { startInfluxd } from '../helpers/influxd.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'influx-e2e-enroll-token-0123'

t.test('with VIGIE_INFLUX_URL the same API serves a real agent\'s metrics from InfluxDB', async t => {
  const influx = await startInfluxd(t)
  const dataDir = tempDir(t)
  const stateDir = tempDir(t, 'vigie-agent-')
  const collector = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_INFLUX_URL: influx.url, VIGIE_INFLUX_DB: 'vigie_e2e', VIGIE_INFLUX_FLUSH_MS: '100' } })
  t.teardown(() => collector.stop())
  const token = collector.adminToken!
  const ready = await waitFor(async () => {
    const r = await api(`${collector.url}/readyz`, token)
    return r.status === 200 ? r.body : undefined
  }, { timeoutMs: 15_000, what: 'readiness with InfluxDB' })
  t.equal(ready.checks.metricStore.kind, 'influx', 'the collector runs on InfluxDB')
  const agent = spawnAgent({ url: collector.url, stateDir, enrollToken: ENROLL, intervalSec: 1 })
  t.teardown(() => agent.stop())

  const machine = await waitFor(async () => {
    const { body } = await api(`${collector.url}/api/v1/machines`, token)
    return body.items?.find((m: { hostname: string }) => m.hostname === os.hostname())
  }, { timeoutMs: 30_000, what: 'this machine in the fleet list' })
  const series = await waitFor(async () => {
    const { body } = await api(`${collector.url}/api/v1/machines/${machine.id}/metrics?name=mem.used_pct&from=5m&step=1s`, token)
    return body.series?.[0]?.points?.length >= 3 ? body.series[0] : undefined
  }, { timeoutMs: 30_000, what: 'three samples readable back from InfluxDB' })
  t.equal(series.resolution, 'raw')
  t.ok(series.points.every((p: [number, number]) => p[1] > 0 && p[1] < 100), 'real memory percentages')
  const disks = (await api(`${collector.url}/api/v1/machines/${machine.id}/metrics?name=fs.used_pct&labels=${encodeURIComponent('{"mount":"/"}')}&from=5m&step=1s`, token)).body
  t.equal(disks.series.length, 1, 'label filter works on InfluxDB too')
  t.same(disks.series[0].labels, { mount: '/' })
  const listed = (await api(`${collector.url}/api/v1/machines/${machine.id}/series`, token)).body
  t.ok(listed.series.some((s: { name: string }) => s.name === 'cpu.load_pct'), 'series listing comes from InfluxDB')
  const metrics = await (await fetch(`${collector.url}/metrics`)).text()
  t.match(metrics, /vigie_metric_store_ready 1/)
})
