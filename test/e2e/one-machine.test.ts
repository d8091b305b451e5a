import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import { spawnAgent, spawnCollector, api } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'e2e-enroll-token-0123456789'

t.test("this machine's real metrics arrive through the API, and survive a collector restart with no duplicates", async t => {
  const dataDir = tempDir(t)
  const stateDir = tempDir(t, 'vigie-agent-')
  const started = Date.now()
  let collector = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_REPORT_INTERVAL: '1' } })
  t.teardown(() => collector.stop())
  const token = collector.adminToken
  t.ok(token, 'the first start prints an admin token')
  const agent = spawnAgent({ url: collector.url, stateDir, enrollToken: ENROLL, intervalSec: 1 })
  t.teardown(() => agent.stop())

  const machine = await waitFor(async () => {
    const { body } = await api(`${collector.url}/api/v1/machines`, token!)
    return body.items?.find((m: { hostname: string }) => m.hostname === os.hostname())
  }, { timeoutMs: 30_000, what: 'this machine in the fleet list' })
  t.comment(`first report visible after ${Date.now() - started} ms`)
  t.ok(machine.cpuPct >= 0 && machine.cpuPct <= 100, `real CPU load ${machine.cpuPct} %`)
  t.ok(machine.memPct > 0 && machine.memPct < 100, `real memory use ${machine.memPct} %`)
  t.ok(machine.diskPct > 0 && machine.diskPct <= 100, `real disk use ${machine.diskPct} %`)

  const detail = (await api(`${collector.url}/api/v1/machines/${machine.id}`, token!)).body
  const memTotal = detail.latest.find((v: { name: string }) => v.name === 'mem.total_bytes')?.value
  t.equal(memTotal, os.totalmem(), 'total memory matches what the OS says')
  const root = detail.latest.find((v: { name: string, labels?: { mount?: string } }) => v.name === 'fs.used_pct' && v.labels?.mount === '/')
  t.ok(root, 'the root filesystem is reported')
  t.equal(detail.host.hostname, os.hostname())
  t.equal(detail.host.kernel, os.release())
  const probes = detail.unavailable.map((u: { probe: string }) => u.probe)
  const hasTemps = detail.latest.some((v: { name: string }) => v.name.startsWith('temp.'))
  t.ok(hasTemps || probes.includes('temperatures'), 'temperatures are either reported or explicitly unavailable')
  const hasBattery = detail.latest.some((v: { name: string }) => v.name.startsWith('battery.'))
  t.ok(hasBattery || probes.includes('battery'), 'battery is either reported or explicitly unavailable')
  t.notOk(detail.latest.some((v: { name: string, value: number }) => v.name === 'temp.cpu_c' && v.value === 0), 'never a fake 0 °C')

  // Stop the collector; the agent keeps collecting into its spool.
  await collector.stop()
  const seqAtStop = detail.lastSeq as number
  await waitFor(() => fs.readdirSync(`${stateDir}/spool`).filter(f => f.endsWith('.json')).length >= 3, { timeoutMs: 20_000, what: 'reports spooled while the collector is down' })
  const port = new URL(collector.url).port
  collector = await spawnCollector({ dataDir, port: Number(port), env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_REPORT_INTERVAL: '1' } })
  t.notOk(collector.adminToken, 'a restart does not print a new admin token')

  const after = await waitFor(async () => {
    const { body } = await api(`${collector.url}/api/v1/machines/${machine.id}`, token!)
    return body.lastSeq >= seqAtStop + 5 ? body : undefined
  }, { timeoutMs: 40_000, what: 'the agent to reconnect and backfill' })
  t.ok(after.lastSeq > seqAtStop, 'data from before and after the outage is there')
  await waitFor(() => fs.readdirSync(`${stateDir}/spool`).filter(f => f.endsWith('.json')).length <= 1, { timeoutMs: 20_000, what: 'the spool to drain' })

  const final = (await api(`${collector.url}/api/v1/machines/${machine.id}`, token!)).body
  const upTo = Date.parse(final.lastSampledAt) + 1
  const series = (await api(`${collector.url}/api/v1/machines/${machine.id}/metrics?name=mem.used_pct&from=${started - 1000}&to=${upTo}&step=100`, token!)).body
  const times = (series.series[0].points as Array<[number, number]>).map(p => p[0])
  t.equal(new Set(times).size, times.length, 'no sample stored twice')
  t.equal(times.length, final.lastSeq, `every report from seq 1 to ${final.lastSeq} is stored exactly once`)
  const metrics = await (await fetch(`${collector.url}/metrics`)).text()
  t.match(metrics, /vigie_reports_stored_total [1-9]/)
})
