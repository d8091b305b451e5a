/**
 * Proof for issue 14, "`--enroll-token` shows in `ps` on every workstation": a
 * real agent started with the token on its command line says that the token is
 * visible to every local user and how to give it otherwise. The collector URL is
 * a closed loopback port: the agent only tries to enroll there.
 */
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { startProcess } from '../helpers/processes.js'
import { tempDir } from '../helpers/app.js'
import { waitFor } from '../helpers/wait.js'

t.test('a token given on the command line is warned about', async t => {
  const base = tempDir('vigie-argv-')
  t.teardown(() => { fs.rmSync(base, { recursive: true, force: true }) })
  const p = startProcess('agent/main.ts', ['run', '--collector', 'http://127.0.0.1:9', '--state-dir', path.join(base, 'state'), '--interval', '1', '--enroll-token', 'argv-enroll-token-0123456789'],
    { VIGIE_ENROLL_TOKEN: '', VIGIE_AGENT_LOG_LEVEL: 'info', VIGIE_AGENT_PROBES: 'inventory=off,smart=off,processes=off,gateway=off' })
  t.teardown(() => p.stop())
  await waitFor(() => p.output().includes('enrollment failed') || p.proc.exitCode !== null, { timeoutMs: 30_000, what: 'a first enrollment attempt' })
  t.match(p.output(), /--enroll-token VALUE shows the token to every local user/, 'the agent warns that ps shows the token')
  t.match(p.output(), /--enroll-token-file FILE/, 'and names a way that does not')
})
