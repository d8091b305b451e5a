/**
 * The agent's errors carry stable codes, documented in docs/agent.md, and the
 * failures a user meets first come out with them.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { AGENT_ERROR_CODES } from '../../agent/errors.js'
import { createAgent } from '../../agent/agent.js'
import { loadAgentConfig } from '../../agent/config.js'
import { readState, statePath } from '../../agent/state.js'
import { SendError, type SendErrorKind } from '../../agent/transport.js'
import { inProcessCollector, memoryLogger } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

t.test('docs/agent.md lists every agent error code, and no other', async t => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'agent.md'), 'utf8')
  for (const code of Object.keys(AGENT_ERROR_CODES)) t.ok(doc.split('\n').some(l => l.startsWith(`| \`${code}\` |`)), `${code} has a row`)
  const documented = new Set([...doc.matchAll(/`(VIGIE_AGENT_ERR_[A-Z_]+)`/g)].map(m => m[1]))
  t.same([...documented].sort(), Object.keys(AGENT_ERROR_CODES).sort(), 'the doc names no code that does not exist')
})

t.test('every kind of failed send has its own code', async t => {
  const kinds: SendErrorKind[] = ['network', 'unauthorized', 'forbidden', 'rejected', 'too-large', 'busy']
  const codes = kinds.map(k => new SendError(k, 'x').code)
  t.equal(new Set(codes).size, kinds.length)
  for (const c of codes) t.ok(c in AGENT_ERROR_CODES, c)
})

t.test('the first failures a user meets come with their codes', async t => {
  const dir = tempDir(t, 'vigie-agent-errors-')
  const collector = await inProcessCollector(path.join(dir, 'collector'))
  t.teardown(collector.close)
  const { log } = memoryLogger()
  const config = (over: object): ReturnType<typeof loadAgentConfig> => loadAgentConfig({ collectorUrl: collector.url, transport: 'http', ...over } as never, { env: {} })

  const unstarted = createAgent(config({ stateDir: path.join(dir, 'a') }), { log, probes: [] })
  await t.rejects(unstarted.collectOnce(), { code: 'VIGIE_AGENT_ERR_NOT_STARTED', message: 'agent not started' })

  const noToken = createAgent(config({ stateDir: path.join(dir, 'b') }), { log, probes: [] })
  await t.rejects(noToken.start(), { code: 'VIGIE_AGENT_ERR_NO_ENROLL_TOKEN', message: /^not enrolled and no enrollment token/ })

  const wrong = createAgent(config({ stateDir: path.join(dir, 'c'), enrollToken: 'not-the-fleet-token-0000' }), { log, probes: [] })
  await t.rejects(wrong.start(), { code: 'VIGIE_AGENT_ERR_ENROLL_REFUSED', message: /^enrollment refused: 401 VIGIE_ERR_ENROLL_TOKEN/, cause: { code: 'VIGIE_AGENT_ERR_UNAUTHORIZED', kind: 'unauthorized' } })
  t.equal(readState(path.join(dir, 'c')), undefined, 'no identity written')

  const unreadable = path.join(dir, 'token-is-a-folder')
  fs.mkdirSync(unreadable)
  const badFile = createAgent(config({ stateDir: path.join(dir, 'd'), enrollTokenFile: unreadable }), { log, probes: [] })
  await t.rejects(badFile.start(), { code: 'VIGIE_AGENT_ERR_ENROLL_TOKEN_FILE', message: /^enrollment token file .*token-is-a-folder: EISDIR/ })

  fs.mkdirSync(path.join(dir, 'e'))
  fs.writeFileSync(statePath(path.join(dir, 'e')), '{"agentId": 1}')
  const damaged = createAgent(config({ stateDir: path.join(dir, 'e') }), { log, probes: [] })
  await t.rejects(damaged.start(), { code: 'VIGIE_AGENT_ERR_STATE_DAMAGED', message: /state\.json is damaged/ })
})
