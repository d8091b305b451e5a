/**
 * A report the collector refuses for good, on the agent's WebSocket stream: a real
 * agent (createAgent, stream only) against a real collector on 127.0.0.1. What the
 * user notices: the report is dropped and counted (droppedReports reaches the
 * collector), it is sent once, not retried forever, the reports after it keep
 * flowing, and the spool does not keep it.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { createAgent } from '../../agent/agent.js'
import { loadAgentConfig, type AgentConfig } from '../../agent/config.js'
import type { Probe } from '../../agent/probes/probe.js'
import { statePath } from '../../agent/state.js'
import { api, ENROLL_TOKEN, inProcessCollector, memoryLogger, testDrivesCollections, waitFor } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'


function config (over: Partial<AgentConfig>): AgentConfig {
  // Stream only: no HTTP fallback can hide how the agent reads the stream's answers.
  // A long interval: the test drives collections itself (collectOnce, flush).
  return { ...loadAgentConfig({}, { env: {} }), intervalSec: 3600, transport: 'ws', logLevel: 'silent', ...over }
}

/** A probe whose value (and, when asked, an over-long label) the test sets before each collection. */
function testProbe (): Probe & { value: number, label: unknown } {
  const p = {
    name: 'test',
    timeoutMs: 1000,
    value: 1,
    label: 'a' as unknown,
    async collect () { return { metrics: [{ name: 'test.value', unit: 'count' as const, value: p.value, labels: { l: p.label as string } }] } }
  }
  return p
}

async function counters (url: string, token: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  const out: Record<string, number> = {}
  for (const m of (await res.text()).matchAll(/^vigie_(\w+)_total (\d+)$/gm)) out[m[1]] = Number(m[2])
  return out
}

interface Machine { lastSeq: number, droppedReports: number }

t.test('a report refused for good on the stream is dropped and counted once; the next ones are stored', async t => {
  const dir = tempDir(t, 'vigie-permanent-')
  const collector = await inProcessCollector(path.join(dir, 'collector'))
  t.teardown(async () => { await collector.close() })
  const admin = collector.adminToken!
  const probe = testProbe()
  let skewMs = 0
  const { lines, log } = memoryLogger()
  const agent = createAgent(config({ collectorUrl: collector.url, enrollToken: ENROLL_TOKEN, stateDir: path.join(dir, 'agent') }),
    { log, probes: [probe], now: () => Date.now() + skewMs, schedule: testDrivesCollections })
  t.teardown(async () => { await agent.stop() })
  await agent.start()
  await waitFor('seq 1 stored', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${agent.agentId!}`)).lastSeq === 1)
  t.ok(lines.some(l => l.msg === 'stream connected'), 'the agent talks over the stream')
  const before = await counters(collector.url, admin)

  // seq 2 sampled an hour ahead (VIGIE_ERR_TIME_INVALID), then 3 and 4 normal, all in one frame.
  skewMs = 3_600_000
  await agent.collectOnce()
  skewMs = 0
  await agent.collectOnce()
  await agent.collectOnce()
  await agent.flush()
  await waitFor('seq 3 and 4 stored after the refusal', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${agent.agentId!}`)).lastSeq === 4)

  // seq 5 with a label over the bound (the frame fails the schema: the collector closes the stream), then 6.
  probe.label = 'x'.repeat(300)
  await agent.collectOnce()
  probe.label = 'a'
  await agent.collectOnce()
  await agent.flush()
  await waitFor('seq 6 stored after the invalid frame', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${agent.agentId!}`)).lastSeq === 6)
  // Seq 6 was collected before seq 5 was dropped: seq 7 carries both drops.
  await agent.collectOnce()
  await agent.flush()
  const m = await waitFor('seq 7 stored', async () => {
    const x = await api<Machine>(collector.url, admin, `/api/v1/machines/${agent.agentId!}`)
    return agent.spooled === 0 && x.lastSeq === 7 ? x : undefined
  })
  const after = await counters(collector.url, admin)
  const dropped = lines.filter(l => l.msg === 'collector rejected a report; dropping it').map(l => l.seq)
  t.same(dropped, [2, 5], 'each refused report dropped once, by its seq')
  t.equal(after.reports_stored - before.reports_stored, 4, 'seq 3, 4, 6 and 7 stored')
  t.equal(after.stream_frames_rejected - before.stream_frames_rejected, 1, 'the invalid frame was sent once, not retried')
  // Frame [2,3,4] refused (3 received), then [3,4]; [5,6] is closed before it counts, then [6], then [7].
  t.equal(after.reports_received - before.reports_received, 3 + 2 + 1 + 1, 'no report sent again after its refusal')
  t.equal(fs.readdirSync(path.join(dir, 'agent', 'spool')).length, 0, 'the spool keeps nothing')
  t.equal(m.droppedReports, 2, 'the collector knows two reports were dropped')
  t.equal(agent.spooled, 0)
})

t.test('a seq already stored with other content (state restored from a backup) is dropped, never retried, and the next seq flows', async t => {
  const dir = tempDir(t, 'vigie-permanent-')
  const collector = await inProcessCollector(path.join(dir, 'collector'))
  t.teardown(async () => { await collector.close() })
  const admin = collector.adminToken!
  const stateDir = path.join(dir, 'agent')
  const probe = testProbe()
  const { log } = memoryLogger()
  let agent = createAgent(config({ collectorUrl: collector.url, enrollToken: ENROLL_TOKEN, stateDir }), { log, probes: [probe], schedule: testDrivesCollections })
  await agent.start()
  await agent.collectOnce()
  await agent.flush()
  const id = agent.agentId!
  await waitFor('seq 1 and 2 stored', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${id}`)).lastSeq === 2)
  await agent.stop()

  // The state file as it was before seq 2: the next report reuses seq 2 with other values.
  const file = statePath(stateDir)
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')) as object, nextSeq: 2 }))
  probe.value = 99
  const second = memoryLogger()
  agent = createAgent(config({ collectorUrl: collector.url, stateDir }), { log: second.log, probes: [probe], schedule: testDrivesCollections })
  t.teardown(async () => { await agent.stop() })
  const before = await counters(collector.url, admin)
  await agent.start()
  await agent.collectOnce()
  await agent.flush()
  const m = await waitFor('seq 3 stored', async () => {
    const x = await api<Machine>(collector.url, admin, `/api/v1/machines/${id}`)
    return agent.spooled === 0 && x.lastSeq === 3 ? x : undefined
  })
  const after = await counters(collector.url, admin)
  const dropped = second.lines.filter(l => l.msg === 'collector rejected a report; dropping it')
  t.same(dropped.map(l => l.seq), [2], 'seq 2 dropped once')
  t.match(String(dropped[0]?.err), /VIGIE_ERR_SEQ_CONFLICT/, 'the log says why')
  t.equal(after.reports_stored - before.reports_stored, 1, 'only seq 3 stored')
  t.equal(after.reports_received - before.reports_received, 1 + 1, 'seq 2 refused, then seq 3 alone: seq 2 never sent again')
  t.equal(m.droppedReports, 1, 'the drop reaches the collector')
})

for (const transport of ['ws', 'http'] as const) {
  t.test(`${transport}: a refusal that names no report (a report nested too deep) drops only that report, not the one before it`, async t => {
    const dir = tempDir(t, 'vigie-permanent-')
    const collector = await inProcessCollector(path.join(dir, 'collector'))
    t.teardown(async () => { await collector.close() })
    const admin = collector.adminToken!
    const probe = testProbe()
    const { lines, log } = memoryLogger()
    const agent = createAgent(config({ collectorUrl: collector.url, enrollToken: ENROLL_TOKEN, stateDir: path.join(dir, 'agent'), transport }), { log, probes: [probe], schedule: testDrivesCollections })
    t.teardown(async () => { await agent.stop() })
    await agent.start()
    const id = agent.agentId!
    await waitFor('seq 1 stored', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${id}`)).lastSeq === 1)
    const before = await counters(collector.url, admin)
    // seq 2 good, seq 3 with a buggy probe's label nested past the depth bound, seq 4 good: one frame or body.
    await agent.collectOnce()
    let deep: unknown = 'x'
    for (let i = 0; i < 40; i++) deep = [deep]
    probe.label = deep
    await agent.collectOnce()
    probe.label = 'a'
    await agent.collectOnce()
    await agent.flush()
    await waitFor('seq 4 stored', async () => agent.spooled === 0 && (await api<Machine>(collector.url, admin, `/api/v1/machines/${id}`)).lastSeq === 4)
    const after = await counters(collector.url, admin)
    const dropped = lines.filter(l => l.msg === 'collector rejected a report; dropping it')
    t.same(dropped.map(l => l.seq), [3], 'only the deep report is dropped')
    t.match(String(dropped[0]?.err), /VIGIE_ERR_JSON_TOO_DEEP/, 'the log says why')
    t.equal(after.reports_stored - before.reports_stored, 2, 'seq 2 and 4 stored')
    t.equal(fs.readdirSync(path.join(dir, 'agent', 'spool')).length, 0, 'the spool keeps nothing')
  })
}
