/**
 * vigie-agent command line.
 *   vigie-agent [run] [--collector URL] [--enroll-token T] [--state-dir D] [--interval S] [--config FILE]
 */
import { parseArgs } from 'node:util'
import pino from 'pino'
import { createAgent } from './agent.js'
import { AgentConfigError, loadAgentConfig, type AgentConfig } from './config.js'

export const USAGE = `usage: vigie-agent [run] [options]
  --collector URL       collector base URL (VIGIE_COLLECTOR_URL)
  --enroll-token T      enrollment token, first start only (VIGIE_ENROLL_TOKEN)
  --state-dir DIR       state and spool folder (VIGIE_AGENT_STATE_DIR)
  --interval SEC        collection cadence in seconds (VIGIE_AGENT_INTERVAL, default 30)
  --transport MODE      auto | ws | http (VIGIE_AGENT_TRANSPORT, default auto)
  --config FILE         JSON config file (keys as in README)
  --log-level LEVEL     (VIGIE_AGENT_LOG_LEVEL, default info)
`

export async function main (argv = process.argv.slice(2)): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      collector: { type: 'string' },
      'enroll-token': { type: 'string' },
      'state-dir': { type: 'string' },
      interval: { type: 'string' },
      transport: { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) { process.stdout.write(USAGE); return }
  const command = positionals[0] ?? 'run'
  if (command !== 'run') throw new AgentConfigError(`unknown command '${command}'\n${USAGE}`)
  const overrides: Partial<Record<keyof AgentConfig, unknown>> = {
    collectorUrl: values.collector,
    enrollToken: values['enroll-token'],
    stateDir: values['state-dir'],
    intervalSec: values.interval,
    transport: values.transport,
    logLevel: values['log-level']
  }
  const config = loadAgentConfig(overrides as Partial<AgentConfig>, { configFile: values.config })
  const log = pino({
    level: config.logLevel,
    name: 'vigie-agent',
    redact: { paths: ['agentToken', 'enrollToken', 'token', '*.token'], censor: '[redacted]' },
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {})
  })
  const agent = createAgent(config, { log })
  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping')
    agent.stop().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await agent.start()
}

if (process.argv[1]?.endsWith('agent/main.ts') === true || process.argv[1]?.endsWith('agent/main.js') === true) {
  main().catch((err: unknown) => {
    const e = err as Error & { code?: string }
    process.stderr.write(`vigie-agent: ${e.message}\n`)
    process.exit(e.code === 'VIGIE_ERR_CONFIG' ? 78 : 1)
  })
}
