/**
 * `npm start`: the collector on 127.0.0.1 with the embedded store under ./data,
 * plus one local agent monitoring this machine, plus the dashboard. Prints where
 * to look and, on the first start, the admin token.
 *
 *   npm start [-- --demo N]   (N simulated machines beside the real one)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startCollector } from '../collector/main.js'

const ROOT = path.resolve(import.meta.dirname, '..')

function spawnAgent (url: string, stateDir: string, enrollToken: string): ChildProcess {
  const args = ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'run', '--collector', url, '--state-dir', stateDir]
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIE_AGENT_INTERVAL: process.env.VIGIE_AGENT_INTERVAL ?? '10' }
  env.VIGIE_ENROLL_TOKEN = enrollToken
  return spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] })
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { demo: { type: 'string' } } })
  const { app, url, adminToken } = await startCollector()
  const cfg = app.config
  const stateDir = path.join(cfg.dataDir, 'agent')
  // A one-use token that expires soon: enough for the local agent to enroll, or to
  // enroll again if its saved identity is unknown here (a data folder reset), and
  // useless to anyone else.
  const enrollToken = (await app.enrollTokens.create({ name: 'local agent', maxUses: 1, expiresMs: Date.now() + 600_000 })).token
  const agent = spawnAgent(url, stateDir, enrollToken)

  let demo: { stop: () => Promise<void> } | undefined
  if (values.demo !== undefined) {
    const count = Number(values.demo)
    // The simulator lives with the benchmarks; it is optional at run time.
    const simPath = '../bench/sim/demo.js'
    const mod = await import(simPath).catch(() => undefined) as { startDemoFleet?: (o: { collectorUrl: string, enrollToken: string, count: number, seed: number, dataDir: string }) => Promise<{ stop: () => Promise<void> }> } | undefined
    if (mod?.startDemoFleet === undefined) {
      app.log.warn('the fleet simulator is not available in this checkout; --demo ignored')
    } else {
      const token = (await app.enrollTokens.create({ name: 'demo fleet', maxUses: count, expiresMs: Date.now() + 600_000 })).token
      demo = await mod.startDemoFleet({ collectorUrl: url, enrollToken: token, count, seed: 1, dataDir: path.join(cfg.dataDir, 'demo') })
    }
  }

  const lines = [
    '',
    `  Vigie is running.  Dashboard and API: ${url}/`,
    `  Data folder: ${cfg.dataDir}   Local agent state: ${stateDir}`,
    adminToken !== undefined
      ? `  Admin token (shown once, keep it; sign in with it): ${adminToken}`
      : '  Sign in with the admin token printed at first start (lost it? `npm run token` makes a new one).',
    `  Your machine appears in ${url}/api/v1/machines within seconds. Ctrl-C stops everything.`,
    ''
  ]
  process.stderr.write(lines.join('\n') + '\n')

  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    agent.kill('SIGTERM')
    await demo?.stop()
    await app.close()
    process.exit(0)
  }
  agent.on('exit', (code, signal) => {
    if (!stopping) app.log.error({ code, signal }, 'local agent exited')
  })
  process.once('SIGINT', () => { void stop() })
  process.once('SIGTERM', () => { void stop() })
}

main().catch((err: unknown) => {
  const e = err as Error & { code?: string }
  process.stderr.write(`vigie: ${e.code === 'EADDRINUSE' ? 'the port is in use (set VIGIE_PORT): ' : ''}${e.message}\n`)
  process.exit(1)
})
