/**
 * Runs a collector and an agent as processes (debug logging) through enrollment,
 * reports, sign-ins (good and bad), token creation, rotation and revocation, and
 * scans every line they printed for the secrets used — and for anything shaped
 * like a Vigie secret (`vga_`, `vgt_`, `vge_` followed by key material).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { tempDir } from '../helpers/temp.js'
import { ROOT, api, spawnAgent, spawnCollector } from '../helpers/processes.js'
import { waitFor } from '../helpers/wait.js'

function cli (args: string[], dataDir: string, input = ''): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector', 'main.ts'), ...args], { cwd: ROOT, env: { ...process.env, VIGIE_DATA_DIR: dataDir }, input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`cli ${args[0]} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

t.test('no secret ever reaches the collector or agent logs', async t => {
  const dataDir = tempDir(t)
  const stateDir = tempDir(t, 'vigie-agent-')
  const secrets: Record<string, string> = {}

  secrets.adminToken = cli(['create-token', '--role', 'admin', '--name', 'ops'], dataDir).trim()
  t.match(secrets.adminToken, /^vgt_/)
  secrets.cliPassword = 'Cli-Password-' + randomBytes(6).toString('hex')
  t.match(cli(['create-user', '--username', 'root-admin', '--role', 'admin'], dataDir, secrets.cliPassword + '\n'), /created admin root-admin/)
  const generated = /password \(shown once\): (\S+)/.exec(cli(['create-user', '--username', 'gen-user', '--role', 'viewer'], dataDir))?.[1]
  t.ok(generated, 'create-user without stdin prints a generated password once')
  secrets.generatedCli = generated!

  const c = await spawnCollector({ dataDir, env: { VIGIE_LOG_LEVEL: 'debug', VIGIE_REPORT_INTERVAL: '1' } })
  t.teardown(() => c.stop())
  t.notOk(c.adminToken, 'no first-start banner: an admin token existed')
  const adm = secrets.adminToken

  const enroll = await api(`${c.url}/api/v1/admin/enroll-tokens`, adm, { method: 'POST', body: JSON.stringify({ name: 'fleet', maxUses: 5, expiresInHours: 1 }) })
  secrets.enrollToken = enroll.body.token
  const apiTok = await api(`${c.url}/api/v1/admin/tokens`, adm, { method: 'POST', body: JSON.stringify({ name: 'script', role: 'viewer' }) })
  secrets.apiToken = apiTok.body.token
  const user = await api(`${c.url}/api/v1/admin/users`, adm, { method: 'POST', body: JSON.stringify({ username: 'tech1', role: 'technician' }) })
  secrets.userPassword = user.body.password

  const agent = spawnAgent({ url: c.url, stateDir, enrollToken: secrets.enrollToken, intervalSec: 1, env: { VIGIE_AGENT_LOG_LEVEL: 'debug' } })
  t.teardown(() => agent.stop())
  const machine = await waitFor(async () => (await api(`${c.url}/api/v1/machines`, adm)).body.items?.find((m: { hostname: string }) => m.hostname === os.hostname()), { timeoutMs: 40_000, what: 'the agent to report' })
  secrets.agentToken = (JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { agentToken: string }).agentToken

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) => fetch(`${c.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const good = await post('/api/v1/auth/login', { username: 'tech1', password: secrets.userPassword })
  t.equal(good.status, 200)
  const cookies = good.headers.getSetCookie()
  secrets.sessionId = /vigie_session=([^;]+)/.exec(cookies.join(';'))![1]
  secrets.csrfToken = ((await good.json()) as { csrfToken: string }).csrfToken
  t.equal((await post('/api/v1/auth/login', { username: 'root-admin', password: secrets.cliPassword })).status, 200)
  secrets.wrongPassword = 'Wrong-Password-' + randomBytes(6).toString('hex')
  t.equal((await post('/api/v1/auth/login', { username: 'tech1', password: secrets.wrongPassword })).status, 401)
  secrets.passwordAsUsername = 'Typed-Password-In-Username-' + randomBytes(4).toString('hex')
  t.equal((await post('/api/v1/auth/login', { username: secrets.passwordAsUsername.slice(0, 60), password: 'x' })).status, 401)

  secrets.bogusApi = 'vgt_' + randomBytes(32).toString('base64url')
  t.equal((await api(`${c.url}/api/v1/machines`, secrets.bogusApi)).status, 401)
  secrets.bogusEnroll = 'vge_' + randomBytes(32).toString('base64url')
  t.equal((await post('/api/v1/enroll', { enrollToken: secrets.bogusEnroll, hostname: 'x', agentVersion: '1' })).status, 401)
  t.ok((await fetch(`${c.url}/api/v1/live?token=${secrets.bogusApi}`)).status >= 400, 'a refused request with a token in the query string')
  t.ok((await fetch(`${c.url}/api/v1/machines?token=${adm}`)).status === 401, 'a token in the query string of a route that does not take one')

  const rotated = await post('/api/v1/agent/rotate', {}, { authorization: `Bearer ${secrets.agentToken}` })
  t.equal(rotated.status, 200)
  secrets.rotatedAgentToken = ((await rotated.json()) as { agentToken: string }).agentToken
  const own = await post('/api/v1/auth/tokens', { name: 'mine' }, { cookie: `vigie_session=${secrets.sessionId}`, 'x-csrf-token': secrets.csrfToken })
  t.equal(own.status, 201)
  secrets.ownToken = ((await own.json()) as { token: string }).token
  t.equal((await fetch(`${c.url}/api/v1/admin/tokens/${apiTok.body.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${adm}` } })).status, 204)
  t.equal((await post(`/api/v1/admin/agents/${machine.id}/revoke`, {}, { authorization: `Bearer ${adm}` })).status, 200)
  await waitFor(() => /revoked|refused the agent token|unauthorized/i.test(agent.output()), { timeoutMs: 20_000, what: 'the agent to notice its revocation' })
  t.equal((await post('/api/v1/auth/logout', {}, { cookie: `vigie_session=${secrets.sessionId}` })).status, 204)

  await agent.stop()
  await c.stop()
  const logs = { collector: c.output(), agent: agent.output() }
  const lines = Object.values(logs).join('\n').split('\n').length
  t.ok(logs.collector.includes('agent enrolled') && logs.collector.includes('request refused'), 'the logs did record the events')
  for (const [name, value] of Object.entries(secrets)) {
    t.ok(value.length >= 10, `${name} is a real secret`)
    for (const [who, text] of Object.entries(logs)) t.notOk(text.includes(value), `${name} is not in the ${who} log`)
  }
  for (const [who, text] of Object.entries(logs)) {
    const shaped = text.match(/vg[ate]_[A-Za-z0-9_-]{8,}/g) ?? []
    t.same(shaped, [], `nothing shaped like a Vigie secret in the ${who} log`)
  }
  if (process.env.VIGIE_SHOW_LOGS === '1') t.comment(logs.collector + '\n---\n' + logs.agent)
  t.comment(`scanned ${lines} log lines for ${Object.keys(secrets).length} secrets`)
})
