/**
 * Proof for issue 14, "one enrolled agent crashes the collector": the same check
 * runs on the old commit and on the current code, with APIs both have (a real
 * collector process, a real live watcher of the machine, POST /api/v1/reports).
 * It asserts only what a user sees: after a ~40 KB report with a deeply nested
 * unknown field, the collector process is still there, still serves, and the
 * watcher still gets the machine's next report. The status of the deep report
 * itself is not asserted (old: 200, now: 400).
 */
import t from 'tap'
import { WebSocket } from 'ws'
import { spawnCollector } from '../helpers/processes.js'
import { tempDir } from '../helpers/app.js'
import { makeReport } from '../helpers/reports.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'proof-deep-enroll-0123456789'

t.test('a deep unknown field in a report, sent while a dashboard watches the machine, does not stop the collector', async t => {
  const c = await spawnCollector({ dataDir: tempDir(), env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_RATE_LIMIT_AGENT: '0' } })
  t.teardown(() => { c.proc.kill('SIGKILL') })
  const enr = await fetch(c.url + '/api/v1/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollToken: ENROLL, hostname: 'deep-pc', agentVersion: '1.0.0' }) })
  const { agentId, agentToken } = await enr.json() as { agentId: string, agentToken: string }

  const frames: any[] = []
  const ws = new WebSocket(c.url.replace(/^http/, 'ws') + '/api/v1/live', { headers: { authorization: `Bearer ${c.adminToken!}` } })
  ws.on('message', (d) => { frames.push(JSON.parse(String(d))) })
  ws.on('error', () => {})
  t.teardown(() => { ws.terminate() })
  await new Promise<void>((resolve, reject) => { ws.once('open', () => { resolve() }); ws.once('error', reject) })
  await waitFor(() => frames.some(f => f.type === 'hello'), { what: 'hello frame' })
  ws.send(JSON.stringify({ type: 'watch', machines: [agentId] }))
  const seqsSeen = (): number[] => frames.filter(f => f.type === 'batch').flatMap(f => f.events).filter((e: any) => e.type === 'report').map((e: any) => e.seq as number)
  const post = (body: string): Promise<Response> => fetch(c.url + '/api/v1/reports', { method: 'POST', headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' }, body })

  // Seq 1: a normal report, to know the watch is in place.
  await post(JSON.stringify({ reports: [makeReport(agentId, 1)] }))
  await waitFor(() => seqsSeen().includes(1), { what: 'the live event of seq 1' })

  // Seq 2: the finding's report, ~40 KB, an unknown field nested 20,000 deep inside a metric.
  const deep = makeReport(agentId, 2) as any
  deep.metrics[0].extra = 'DEEP'
  const text = JSON.stringify({ reports: [deep] }).replace('"DEEP"', '['.repeat(20_000) + ']'.repeat(20_000))
  t.ok(text.length > 40_000, `the report is ${text.length} bytes`)
  await post(text).catch(() => undefined)

  // Seq 3: a normal report after it; wait until the watcher has it or the process is gone.
  await post(JSON.stringify({ reports: [makeReport(agentId, 3)] })).catch(() => undefined)
  await waitFor(() => seqsSeen().includes(3) || c.proc.exitCode !== null || c.proc.signalCode !== null, { timeoutMs: 15_000, what: 'the live event of seq 3, or the collector to exit' })
  t.equal(c.proc.exitCode, null, 'the collector process did not exit')
  t.notMatch(c.output(), /Maximum call stack size exceeded/, 'no stack overflow in the collector')
  t.ok(seqsSeen().includes(3), 'the watcher got the next report of that machine')
  t.equal((await fetch(c.url + '/healthz').then(r => r.status, () => 0)), 200, 'the collector still answers')
})
