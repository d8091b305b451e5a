/**
 * Agent identity with REAL processes (issue 14): a real collector process and
 * real agent processes (agent/main.ts run).
 *  - "Revocation does not stick": a revoked agent keeps running, its open stream
 *    is closed at revocation, it reports nothing more and does not re-enroll.
 *  - "Silent blindness": after its state folder is lost, an agent enrolls as a new
 *    machine pending approval; once approved, every report is stored (none
 *    swallowed as a duplicate).
 *  - Cloned images: two agents with one machine key and different host facts are
 *    two machines, all reports stored, one enrollment each (no loop).
 */
import t, { type Test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { api, ROOT, spawnAgent, spawnCollector, type CollectorProc, type Proc } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'e2e-identity-enroll-token-0123'
/** Slow probes off (an apt-get simulation can take a minute on a busy machine), and the gateway probe: nothing leaves loopback. */
const PROBES = 'inventory=off,smart=off,processes=off,gateway=off'

type Json = Record<string, any>

function spoolCount (stateDir: string): number {
  const d = path.join(stateDir, 'spool')
  return fs.existsSync(d) ? fs.readdirSync(d).filter(f => f.endsWith('.json')).length : 0
}

async function storedReports (c: CollectorProc, machineId: string): Promise<{ lastSeq: number, points: number }> {
  const m = (await api(`${c.url}/api/v1/machines/${machineId}`, c.adminToken!)).body
  if (m.lastSeq === undefined) return { lastSeq: 0, points: 0 }
  const upTo = Date.parse(m.lastSampledAt) + 1
  const s = (await api(`${c.url}/api/v1/machines/${machineId}/metrics?name=agent.rss_bytes&from=${upTo - 600_000}&to=${upTo}&step=100`, c.adminToken!)).body
  return { lastSeq: m.lastSeq as number, points: (s.series?.[0]?.points ?? []).length }
}

function enrolledLines (p: Proc): number {
  return p.output().split('\n').filter(l => l.includes('"msg":"enrolled"')).length
}

async function collector (t: Test): Promise<CollectorProc> {
  const dataDir = tempDir(t)
  const c = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_REPORT_INTERVAL: '1' } })
  t.teardown(() => c.stop())
  return c
}

function agentDir (t: Test, machineKey: string): { stateDir: string, keyFile: string, tokenFile: string } {
  const base = tempDir(t, 'vigie-agent-')
  const keyFile = path.join(base, 'machine-id')
  fs.writeFileSync(keyFile, machineKey + '\n')
  const tokenFile = path.join(base, 'enroll-token')
  fs.writeFileSync(tokenFile, ENROLL + '\n', { mode: 0o600 })
  return { stateDir: path.join(base, 'state'), keyFile, tokenFile }
}

t.test('a revoked real agent: stream closed at revocation, keeps running, reports nothing more, never re-enrolls, says so', async t => {
  const c = await collector(t)
  const d = agentDir(t, 'e2e-revoked-machine-key')
  // The token comes from a file (never the command line), and the agent deletes it once enrolled.
  const agent = spawnAgent({ url: c.url, stateDir: d.stateDir, env: { VIGIE_ENROLL_TOKEN_FILE: d.tokenFile, VIGIE_AGENT_MACHINE_KEY_FILE: d.keyFile, VIGIE_AGENT_PROBES: PROBES, VIGIE_AGENT_TRANSPORT: 'ws' } })
  t.teardown(() => agent.stop())
  t.notOk(agent.proc.spawnargs.join(' ').includes(ENROLL), 'the token is not on the agent\'s command line')
  const id = await waitFor(() => /"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/.exec(agent.output())?.[1], { timeoutMs: 30_000, what: 'enrollment' })
  await waitFor(() => agent.output().includes('stream connected'), { timeoutMs: 20_000, what: 'the agent to stream' })
  await waitFor(async () => (await storedReports(c, id)).lastSeq >= 3, { timeoutMs: 30_000, what: 'three reports stored' })
  t.notOk(fs.existsSync(d.tokenFile), 'the enrollment token file is gone after the first enrollment')
  t.notMatch(fs.readFileSync(path.join(d.stateDir, 'state.json'), 'utf8'), new RegExp(ENROLL), 'the state file never holds the enrollment token')

  const revoke = await api(`${c.url}/api/v1/admin/agents/${id}/revoke`, c.adminToken!, { method: 'POST' })
  t.equal(revoke.status, 200)
  // (c) the open stream is closed at revocation, not at the next frame.
  await waitFor(() => /"code":4010[^\n]*"msg":"stream closed"|"msg":"stream closed"[^\n]*4010/.test(agent.output()), { timeoutMs: 5000, what: 'the stream to close with 4010' })
  await waitFor(() => agent.output().includes('the collector refused this agent'), { timeoutMs: 10_000, what: 'the agent to say it was refused' })
  const before = await storedReports(c, id)
  const spooled = spoolCount(d.stateDir)
  t.ok(spooled >= 1, `the refused report(s) stay in the spool (${spooled})`)

  // A bounded wait of several collection intervals: nothing more is stored, nothing re-enrolls.
  const until = Date.now() + 5000
  await waitFor(() => Date.now() > until || agent.proc.exitCode !== null, { timeoutMs: 8000, what: 'five intervals' })
  t.equal(agent.proc.exitCode, null, 'the agent keeps running')
  const after = await storedReports(c, id)
  t.equal(after.lastSeq, before.lastSeq, 'no new report stored after the revocation')
  t.equal(after.points, before.points)
  t.equal(enrolledLines(agent), 1, 'the agent never enrolled again')
  const agents = (await api(`${c.url}/api/v1/admin/agents`, c.adminToken!)).body.items as Json[]
  t.equal(agents.length, 1, 'no new machine appeared')
  t.ok(agents[0].revokedAt, 'the revocation is still in place')
  t.equal(spoolCount(d.stateDir), spooled, 'the spool is kept as it was')

  // `status` and `doctor` say so.
  const status = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'status', '--state-dir', d.stateDir, '--collector', c.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  status.stdout.on('data', (b: Buffer) => { out += b.toString() })
  await new Promise(resolve => status.once('exit', resolve))
  t.match(out, /PROBLEM: REVOKED: the collector refused agent m_/, 'status says revoked')
  t.match(out, /keeps its spool/)
})

t.test('state folder lost: a new machine pending approval; once approved every report is stored, none acknowledged as duplicate', async t => {
  const c = await collector(t)
  const d = agentDir(t, 'e2e-wiped-machine-key')
  const first = spawnAgent({ url: c.url, stateDir: d.stateDir, env: { VIGIE_ENROLL_TOKEN_FILE: d.tokenFile, VIGIE_AGENT_MACHINE_KEY_FILE: d.keyFile, VIGIE_AGENT_PROBES: PROBES, VIGIE_AGENT_TRANSPORT: 'http' } })
  t.teardown(() => first.stop())
  const oldId = await waitFor(() => /"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/.exec(first.output())?.[1], { timeoutMs: 30_000, what: 'enrollment' })
  await waitFor(async () => (await storedReports(c, oldId)).lastSeq >= 5, { timeoutMs: 30_000, what: 'five reports stored' })
  await first.stop()
  fs.rmSync(d.stateDir, { recursive: true, force: true })

  // A fresh enrollment token, given on stdin (--enroll-token -).
  const fresh = (await api(`${c.url}/api/v1/admin/enroll-tokens`, c.adminToken!, { method: 'POST', body: JSON.stringify({ name: 'reinstall' }) })).body.token as string
  t.ok(fresh)
  const second = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'run', '--collector', c.url, '--state-dir', d.stateDir, '--interval', '1', '--enroll-token', '-'], {
    cwd: ROOT, env: { ...process.env, VIGIE_AGENT_MACHINE_KEY_FILE: d.keyFile, VIGIE_AGENT_PROBES: PROBES, VIGIE_AGENT_TRANSPORT: 'http', VIGIE_AGENT_LOG_LEVEL: 'info', VIGIE_ENROLL_TOKEN: '' }, stdio: ['pipe', 'pipe', 'pipe']
  })
  let out = ''
  second.stdout.on('data', (b: Buffer) => { out += b.toString() })
  second.stderr.on('data', (b: Buffer) => { out += b.toString() })
  second.stdin.end(fresh + '\n')
  t.teardown(() => { if (second.exitCode === null) second.kill('SIGKILL') })
  const newId = await waitFor(() => /"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/.exec(out)?.[1], { timeoutMs: 30_000, what: 're-enrollment' })
  t.not(newId, oldId, 'a new machine, not the old id with a ledger full of its seq numbers')
  t.notMatch(out, /shows the token to every local user/, 'stdin: no ps warning')
  await waitFor(() => out.includes('awaits an admin\'s approval'), { timeoutMs: 20_000, what: 'the agent to say it waits for approval' })
  await waitFor(() => spoolCount(d.stateDir) >= 3, { timeoutMs: 20_000, what: 'reports kept in the spool while pending' })
  const pending = (await api(`${c.url}/api/v1/admin/agents?status=pending`, c.adminToken!)).body.items as Json[]
  t.same(pending.map(a => a.agentId), [newId], 'listed as pending in the API')
  t.same(pending[0].machineKeySharedWith, [oldId])
  t.equal((await api(`${c.url}/api/v1/admin/agents/${newId}/approve`, c.adminToken!, { method: 'POST' })).status, 200)

  await waitFor(async () => (await storedReports(c, newId)).lastSeq >= 8 && spoolCount(d.stateDir) <= 1, { timeoutMs: 40_000, what: 'the spool to drain after approval' })
  second.kill('SIGTERM')
  await new Promise(resolve => second.once('exit', resolve))
  const final = await storedReports(c, newId)
  t.equal(final.points, final.lastSeq, `all ${final.lastSeq} reports since the reinstall are stored, seq 1 to ${final.lastSeq}`)
  t.notMatch(out, /dropping it/, 'no report dropped')
})

t.test('two real agents cloned from one image (same machine key, different host facts): two machines, every report stored, no re-enrollment loop', async t => {
  const c = await collector(t)
  const a = agentDir(t, 'e2e-golden-image-key')
  const b = agentDir(t, 'e2e-golden-image-key')
  const env = (d: typeof a, hostname: string) => ({ VIGIE_ENROLL_TOKEN_FILE: d.tokenFile, VIGIE_AGENT_MACHINE_KEY_FILE: d.keyFile, VIGIE_AGENT_PROBES: PROBES, VIGIE_AGENT_HOSTNAME: hostname, VIGIE_AGENT_TRANSPORT: 'auto' })
  const agentA = spawnAgent({ url: c.url, stateDir: a.stateDir, env: env(a, 'clone-a') })
  t.teardown(() => agentA.stop())
  const idA = await waitFor(() => /"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/.exec(agentA.output())?.[1], { timeoutMs: 30_000, what: 'clone A enrolled' })
  const agentB = spawnAgent({ url: c.url, stateDir: b.stateDir, env: env(b, 'clone-b') })
  t.teardown(() => agentB.stop())
  const idB = await waitFor(() => /"agentId":"(m_[A-Za-z0-9_-]+)"[^\n]*"msg":"enrolled"/.exec(agentB.output())?.[1], { timeoutMs: 30_000, what: 'clone B enrolled' })
  t.not(idB, idA, 'two machines, not one merged stream')
  const flagged = (await api(`${c.url}/api/v1/admin/agents/${idB}`, c.adminToken!)).body
  t.equal(flagged.status, 'pending')
  t.equal(flagged.hardwareDiffers, true, 'flagged as a cloned image')
  t.match(flagged.warning, /cloned image/)
  t.match(c.output(), /cloned image/, 'and logged by the collector')
  t.equal((await api(`${c.url}/api/v1/admin/agents/${idB}/approve`, c.adminToken!, { method: 'POST' })).status, 200)

  await waitFor(async () => (await storedReports(c, idA)).lastSeq >= 8 && (await storedReports(c, idB)).lastSeq >= 5, { timeoutMs: 40_000, what: 'both clones reporting' })
  await agentA.stop()
  await agentB.stop()
  for (const [name, id, d] of [['A', idA, a], ['B', idB, b]] as const) {
    const s = await storedReports(c, id)
    t.equal(s.points, s.lastSeq, `clone ${name}: reports 1 to ${s.lastSeq} all stored (${s.points})`)
    t.ok(s.lastSeq >= 5, `clone ${name} reported (${s.lastSeq})`)
    t.notOk(fs.readdirSync(path.join(d.stateDir, 'spool')).some(f => f.endsWith('.tmp')), `clone ${name}: no temp file left`)
  }
  t.equal(enrolledLines(agentA), 1, 'clone A enrolled once')
  t.equal(enrolledLines(agentB), 1, 'clone B enrolled once')
  const machines = (await api(`${c.url}/api/v1/machines`, c.adminToken!)).body.items as Json[]
  t.same(machines.map(m => m.hostname).sort(), ['clone-a', 'clone-b'])
})
