/**
 * The single-file agent: built with esbuild + Node SEA, copied to a folder with
 * no node_modules, it prints its help and reports to a real collector.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { buildSea } from '../../agent/build/build-sea.js'
import { NODE_FLAGS } from '../../agent/install/service-files.js'
import { api, ENROLL_TOKEN, inProcessCollector, waitFor } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

t.test('the single executable runs with no node_modules and reports to a collector', async t => {
  const dir = tempDir(t, 'vigie-sea-')
  const built = await buildSea({ out: path.join(dir, 'vigie-agent'), log: () => {} })
  t.ok(built.ms < 60_000, `built in ${(built.ms / 1000).toFixed(1)} s`)
  t.notOk(fs.existsSync(path.join(dir, 'node_modules')))
  const help = spawnSync(path.join(dir, 'vigie-agent'), ['--help'], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } })
  t.equal(help.status, 0, help.stderr)
  t.match(help.stdout, /^usage: vigie-agent \[run\|install\|uninstall\|status\|doctor\|version\]/)
  t.equal(help.stderr, '', 'no warnings')
  // The service passes its Node flags in NODE_OPTIONS: the single file must take them without
  // complaint (a code cache built under other flags was rejected, with a warning, at every start).
  const flagged = spawnSync(path.join(dir, 'vigie-agent'), ['version'], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: NODE_FLAGS } })
  t.equal(flagged.status, 0, 'runs with the service flags')
  t.match(flagged.stdout, /^vigie-agent \d/)
  const unexpected = flagged.stderr.split('\n').filter(l => l !== '' && l !== 'Warning: disabling flag --expose_wasm due to conflicting flags')
  t.same(unexpected, [], `the service's flags (${NODE_FLAGS}) raise no warning but V8's note that --jitless turns WebAssembly off`)
  const plan = spawnSync(path.join(dir, 'vigie-agent'), ['install', '--collector', 'http://c:8480', '--enroll-token', 'fleet-enroll-token-abcdef', '--dry-run', '--os', 'linux'], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } })
  t.equal(plan.status, 0, plan.stderr)
  t.match(plan.stdout, `copy ${path.join(dir, 'vigie-agent')} -> /usr/local/bin/vigie-agent`, 'install copies the running single file into place')

  const collector = await inProcessCollector(path.join(dir, 'c'))
  t.teardown(async () => { await collector.close() })
  const agent = spawn(path.join(dir, 'vigie-agent'), ['run', '--collector', collector.url, '--state-dir', path.join(dir, 'state'), '--interval', '1', '--probes', 'smart=off'],
    // the token from the environment, as a service gets it (on the command line it shows in ps, and the agent warns)
    { cwd: dir, env: { PATH: '/usr/bin:/bin', VIGIE_ENROLL_TOKEN: ENROLL_TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  agent.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => agent.once('exit', resolve))
  t.teardown(() => { if (agent.exitCode === null) agent.kill('SIGKILL') })
  const id = await waitFor('enrollment', () => { try { return (JSON.parse(fs.readFileSync(path.join(dir, 'state', 'state.json'), 'utf8')) as { agentId: string }).agentId } catch { return undefined } }, 20_000)
  const m = await waitFor('3 reports stored', async () => {
    // 404 until the first report is stored
    const x = await api<{ lastSeq: number, latest: Array<{ name: string }>, inventoryHash: string | null }>(collector.url, collector.adminToken!, `/api/v1/machines/${id}`).catch(() => undefined)
    return x !== undefined && x.lastSeq >= 3 ? x : undefined
  }, 30_000)
  t.ok(m.latest.some(v => v.name === 'cpu.load_pct'), 'with probe values')
  t.ok(m.inventoryHash !== null, 'and an inventory')
  agent.kill('SIGTERM')
  t.equal(await exited, 0, 'stops cleanly on SIGTERM')
  t.equal(err, '', 'no warnings on stderr')
})
