/**
 * Collector down for a while, then back: a real agent process keeps collecting
 * into its spool while a real collector process is stopped, then backfills
 * oldest-first when the collector restarts on the same port and data folder.
 * Checked through the collector's API: every report stored once, in order, none lost.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { api, collectorProcess, ENROLL_TOKEN, freePort, ROOT, waitFor } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

interface Machine { lastSeq: number, droppedReports: number }
interface Series { series: Array<{ points: Array<[number, number]> }> }

t.test('reports spooled during a collector outage are all stored exactly once, in order, after it returns', async t => {
  const dir = tempDir(t, 'vigie-outage-')
  const dataDir = path.join(dir, 'collector')
  const stateDir = path.join(dir, 'agent')
  const port = await freePort()
  let collector = await collectorProcess(dataDir, port)
  const token = collector.adminToken!
  t.teardown(async () => { await collector.stop() })
  const agent = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'run', '--collector', collector.url, '--enroll-token', ENROLL_TOKEN,
    '--state-dir', stateDir, '--interval', '1', '--probes', 'smart=off,inventory=off,processes=off,gateway=off,host=off', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let agentLog = ''
  agent.stderr.on('data', (d: Buffer) => { agentLog += d.toString() })
  const agentExit = new Promise(resolve => agent.once('exit', resolve))
  t.teardown(() => { if (agent.exitCode === null) agent.kill('SIGKILL') })

  const state = (): { agentId: string, nextSeq: number } => JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { agentId: string, nextSeq: number }
  const spooled = (): number => { try { return fs.readdirSync(path.join(stateDir, 'spool')).filter(f => f.endsWith('.json')).length } catch { return 0 } }
  const id = await waitFor('enrollment', () => { try { return state().agentId } catch { return undefined } }, 30_000)
  await waitFor('3 reports stored', async () => (await api<Machine>(collector.url, token, `/api/v1/machines/${id}`).catch(() => ({ lastSeq: 0 }))).lastSeq >= 3, 30_000)
  const startedMs = Date.now() - 10_000

  await collector.stop()
  await waitFor('5 reports spooled while the collector is down', () => spooled() >= 5, 30_000)
  collector = await collectorProcess(dataDir, port)
  await waitFor('the backlog to drain', async () => {
    const m = await api<Machine>(collector.url, token, `/api/v1/machines/${id}`)
    return spooled() === 0 && m.lastSeq >= 8
  }, 60_000)

  agent.kill('SIGTERM')
  await agentExit
  const n = state().nextSeq - 1
  t.equal(spooled(), 0, `nothing left unsent: ${agentLog.slice(-500)}`)
  const m = await api<Machine>(collector.url, token, `/api/v1/machines/${id}`)
  t.equal(m.lastSeq, n, `the collector holds the agent's last report (seq ${n})`)
  t.equal(m.droppedReports, 0, 'the agent dropped nothing')
  const q = await api<Series>(collector.url, token, `/api/v1/machines/${id}/metrics?name=mem.total_bytes&from=${startedMs}&to=${Date.now() + 1000}&step=100&agg=last`)
  const times = q.series[0].points.map(p => p[0])
  t.equal(times.length, n, `one stored sample per report: ${times.length} of ${n}`)
  const gaps = times.slice(1).map((x, i) => x - times[i])
  t.ok(gaps.every(g => g > 0), 'in sampling order')
  t.ok(Math.max(...gaps) <= 2500, `no hole across the outage (largest gap ${Math.max(...gaps)} ms at a 1 s cadence)`)
})
