import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawnAgent, spawnCollector, api } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'rotation-e2e-enroll-token-0123'

t.test('a real agent asked to rotate its token gets a new one, saves it, and keeps reporting; the old token stops working', async t => {
  const dataDir = tempDir(t)
  const stateDir = tempDir(t, 'vigie-agent-')
  const collector = await spawnCollector({ dataDir, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_AGENT_TOKEN_GRACE_SEC: '0' } })
  t.teardown(() => collector.stop())
  const admin = collector.adminToken!
  const agent = spawnAgent({ url: collector.url, stateDir, enrollToken: ENROLL, intervalSec: 1 })
  t.teardown(() => agent.stop())
  const statePath = path.join(stateDir, 'state.json')
  const first = await waitFor(() => fs.existsSync(statePath) && JSON.parse(fs.readFileSync(statePath, 'utf8')) as { agentId: string, agentToken: string }, { timeoutMs: 30_000, what: 'enrollment' })
  await waitFor(async () => (await api(`${collector.url}/api/v1/machines/${first.agentId}`, admin)).status === 200, { timeoutMs: 30_000, what: 'first report' })

  const asked = await api(`${collector.url}/api/v1/admin/agents/${first.agentId}/rotate`, admin, { method: 'POST', body: JSON.stringify({}) })
  t.equal(asked.status, 200, JSON.stringify(asked.body))
  const rotated = await waitFor(() => {
    const s = JSON.parse(fs.readFileSync(statePath, 'utf8')) as { agentToken: string }
    return s.agentToken !== first.agentToken ? s : undefined
  }, { timeoutMs: 30_000, what: 'the agent to save a new token' })
  t.match(rotated.agentToken, /^vga_/)
  t.equal((fs.statSync(statePath).mode & 0o777), 0o600, 'the state file stays readable only by the agent')

  const seqAfter = (await api(`${collector.url}/api/v1/machines/${first.agentId}`, admin)).body.lastSeq as number
  await waitFor(async () => (await api(`${collector.url}/api/v1/machines/${first.agentId}`, admin)).body.lastSeq >= seqAfter + 2, { timeoutMs: 30_000, what: 'reports with the new token' })
  const old = await fetch(`${collector.url}/api/v1/reports`, { method: 'POST', headers: { authorization: `Bearer ${first.agentToken}`, 'content-type': 'application/json' }, body: '{"reports":[]}' })
  t.equal(old.status, 401, 'the old token is refused once the grace period is over')
  t.match(agent.output(), /agent token rotated/)
  t.notMatch(agent.output(), new RegExp(rotated.agentToken.slice(4)), 'the new token is not in the agent log')
})
