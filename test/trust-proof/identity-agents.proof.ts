/**
 * Proof for issue 14, "revocation does not stick" and "silent blindness": the same
 * checks run on the old commit and on the current code, with a real collector
 * process and real agent processes, using only what both have (the token in
 * VIGIE_ENROLL_TOKEN, the revoke route, the machine and metrics routes). The
 * machine key is the file below on the current code; the old agent ignores that
 * variable and reads /etc/machine-id, which is the same for every agent on one
 * machine, as on cloned images.
 * What is asserted is what a user sees: a revoked agent reports nothing more and
 * does not enroll again; no report made by an agent is lost (each one is stored,
 * or still waits in that agent's spool).
 */
import t, { type Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { api, spawnAgent, spawnCollector, type CollectorProc, type Proc } from '../helpers/processes.js'
import { tempDir } from '../helpers/app.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'proof-identity-enroll-token-0123'
/** Slow probes off, and the gateway probe (the old one opens TCP connections to the default gateway). */
const PROBES = 'inventory=off,smart=off,processes=off,gateway=off'

async function collector (t: Test): Promise<CollectorProc> {
  const dataDir = tempDir()
  t.teardown(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })
  const c = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_REPORT_INTERVAL: '1' } })
  t.teardown(() => c.stop())
  return c
}

function agent (t: Test, c: CollectorProc, key = 'proof-machine-key', stateDir = path.join(tempDir('vigie-agent-'), 'state')): Proc & { stateDir: string } {
  const keyFile = path.join(path.dirname(stateDir), 'machine-id')
  fs.writeFileSync(keyFile, key + '\n')
  t.teardown(() => { fs.rmSync(path.dirname(stateDir), { recursive: true, force: true }) })
  const p = spawnAgent({ url: c.url, stateDir, enrollToken: ENROLL, env: { VIGIE_AGENT_MACHINE_KEY_FILE: keyFile, VIGIE_AGENT_PROBES: PROBES, VIGIE_AGENT_TRANSPORT: 'http' } })
  t.teardown(() => p.stop())
  return { ...p, stateDir }
}

const enrolledIds = (p: Proc): string[] => [...p.output().matchAll(/"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/g)].map(m => m[1])
const spoolCount = (stateDir: string): number => { const d = path.join(stateDir, 'spool'); return fs.existsSync(d) ? fs.readdirSync(d).filter(f => f.endsWith('.json')).length : 0 }
/** Reports the agent made since its state folder was created: the seq it would use next, minus one. */
const made = (stateDir: string): number => (JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { nextSeq: number }).nextSeq - 1

/** Reports of a machine stored with a sample time in [fromMs, now]: one agent.rss_bytes point each. */
async function storedSince (c: CollectorProc, machineId: string, fromMs: number): Promise<number> {
  const to = Date.now() + 1000
  const s = (await api(`${c.url}/api/v1/machines/${machineId}/metrics?name=agent.rss_bytes&from=${fromMs}&to=${to}&step=100`, c.adminToken!)).body
  return (s.series?.[0]?.points ?? []).length
}

t.test('a revoked real agent reports nothing more and does not enroll again', async t => {
  const c = await collector(t)
  const a = agent(t, c)
  const id = await waitFor(() => enrolledIds(a)[0], { timeoutMs: 30_000, what: 'enrollment' })
  await waitFor(async () => ((await api(`${c.url}/api/v1/machines/${id}`, c.adminToken!)).body.lastSeq ?? 0) >= 3, { timeoutMs: 30_000, what: 'three reports stored' })
  t.equal((await api(`${c.url}/api/v1/admin/agents/${id}/revoke`, c.adminToken!, { method: 'POST' })).status, 200)
  const revokedAt = Date.now()
  // Five collection intervals, bounded.
  await waitFor(() => Date.now() > revokedAt + 5000, { timeoutMs: 8000, what: 'five intervals' })
  const ids = enrolledIds(a)
  t.same(ids, [id], 'the agent enrolled once, never again after the revocation')
  const stored = new Set<number>()
  for (const m of new Set(ids)) stored.add(await storedSince(c, m, revokedAt + 1000))
  t.same([...stored], [0], 'no report sampled after the revocation is stored')
  const again = await api(`${c.url}/api/v1/admin/agents/${id}/revoke`, c.adminToken!, { method: 'POST' })
  t.equal(again.status, 409, `the machine is still revoked (revoking it again: ${again.status} ${String(again.body.message)})`)
})

t.test('state folder lost: every report the reinstalled agent makes is stored or kept in its spool, none acknowledged as a duplicate and deleted', async t => {
  const c = await collector(t)
  const first = agent(t, c)
  const id = await waitFor(() => enrolledIds(first)[0], { timeoutMs: 30_000, what: 'enrollment' })
  await waitFor(async () => ((await api(`${c.url}/api/v1/machines/${id}`, c.adminToken!)).body.lastSeq ?? 0) >= 8, { timeoutMs: 30_000, what: 'eight reports stored' })
  await first.stop()
  fs.rmSync(first.stateDir, { recursive: true, force: true })

  const reinstalledAt = Date.now()
  const second = agent(t, c, 'proof-machine-key', first.stateDir)
  await waitFor(() => enrolledIds(second)[0], { timeoutMs: 30_000, what: 're-enrollment' })
  await waitFor(() => fs.existsSync(path.join(second.stateDir, 'state.json')) && made(second.stateDir) >= 5, { timeoutMs: 30_000, what: 'five reports made after the reinstall' })
  await second.stop()
  const n = made(second.stateDir)
  let stored = 0
  for (const m of new Set(enrolledIds(second))) stored += await storedSince(c, m, reinstalledAt)
  const kept = spoolCount(second.stateDir)
  t.equal(stored + kept, n, `all ${n} reports made since the reinstall are stored (${stored}) or in the spool (${kept})`)
})

t.test('two real agents with one machine key: no report lost, no re-enrollment loop', async t => {
  const c = await collector(t)
  const a = agent(t, c, 'proof-golden-image-key')
  await waitFor(() => enrolledIds(a)[0], { timeoutMs: 30_000, what: 'agent A enrolled' })
  const b = agent(t, c, 'proof-golden-image-key')
  await waitFor(() => enrolledIds(b)[0], { timeoutMs: 30_000, what: 'agent B enrolled' })
  const since = Date.now() - 120_000
  await waitFor(() => made(a.stateDir) >= 12 && made(b.stateDir) >= 8, { timeoutMs: 40_000, what: 'both agents to make reports' })
  await a.stop()
  await b.stop()
  t.ok(enrolledIds(a).length <= 1 && enrolledIds(b).length <= 1, `each agent enrolled once (A ${enrolledIds(a).length}, B ${enrolledIds(b).length})`)
  const ids = new Set([...enrolledIds(a), ...enrolledIds(b)])
  let stored = 0
  for (const m of ids) stored += await storedSince(c, m, since)
  const total = made(a.stateDir) + made(b.stateDir)
  const kept = spoolCount(a.stateDir) + spoolCount(b.stateDir)
  t.equal(stored + kept, total, `all ${total} reports are stored (${stored}) or in a spool (${kept})`)
})
