/**
 * vigie-agent command line.
 *   vigie-agent [run]      collect and report (the service runs this)
 *   vigie-agent install    write the config and register the service
 *   vigie-agent uninstall  remove the service (--purge: also config, state, user)
 *   vigie-agent status     service state, enrollment, backlog
 *   vigie-agent doctor     connectivity, clock, permissions, which probes work and their cost
 */
import { createRequire } from 'node:module'
import fs from 'node:fs'
import { parseArgs } from 'node:util'
import { createAgent } from './agent.js'
import { AgentConfigError, loadAgentConfig, type AgentConfig } from './config.js'
import { formatDoctor, runDoctor } from './doctor.js'
import { createLogger } from './log.js'
import { apply, installPlan, uninstallPlan } from './install/installer.js'
import { layoutFor, type TargetOs } from './install/layout.js'
import { formatStatus } from './status.js'
import { AGENT_VERSION } from './version.js'

export const USAGE = `usage: vigie-agent [run|install|uninstall|status|doctor|version] [options]
  --collector URL       collector base URL (VIGIE_COLLECTOR_URL)
  --enroll-token-file F file holding the enrollment token, first start only; deleted after enrollment (VIGIE_ENROLL_TOKEN_FILE)
  --enroll-token -      read the enrollment token from stdin (VIGIE_ENROLL_TOKEN also works)
  --enroll-token T      the token itself: visible to every local user in ps; prefer the above
  --state-dir DIR       state and spool folder (VIGIE_AGENT_STATE_DIR)
  --interval SEC        collection cadence in seconds (VIGIE_AGENT_INTERVAL, default 30)
  --group NAME          machine group: site, department (VIGIE_AGENT_GROUP)
  --transport MODE      auto | ws | http (VIGIE_AGENT_TRANSPORT, default auto)
  --probes LIST         probe cadence overrides, e.g. smart=7200,processes=off (VIGIE_AGENT_PROBES)
  --check-tcp LIST      explicit TCP reachability checks, host:port,… (VIGIE_AGENT_CHECK_TCP; default none)
  --check-tcp-timeout MS  timeout of each check (VIGIE_AGENT_CHECK_TCP_TIMEOUT_MS, default 2000)
  --config FILE         JSON config file (keys as in docs/agent.md)
  --log-level LEVEL     (VIGIE_AGENT_LOG_LEVEL, default info)
install / uninstall:
  --root DIR            write files under DIR and run no command (packaging, tests)
  --dry-run             print what would be done, do nothing
  --binary FILE         executable to install (default: this one, when it is the single-file build)
  --run-as-root         run the service as root (SMART, serial number) instead of user vigie-agent (Linux)
  --purge               uninstall: also remove config, state and the service account
  --os OS               linux | darwin | win32 (default: this machine's)
doctor / status:
  --json                doctor: machine-readable output
`

type Flags = Record<string, string | boolean | undefined>

function readTokenFile (file: string): string {
  let t: string
  try { t = fs.readFileSync(file, 'utf8').trim() } catch (err) { throw new AgentConfigError(`--enroll-token-file ${file}: ${(err as Error).message}`) }
  if (t === '') throw new AgentConfigError(`--enroll-token-file ${file}: the file is empty`)
  return t
}

function targetOs (flags: Flags): TargetOs {
  const os = (flags.os as string | undefined) ?? process.platform
  if (os !== 'linux' && os !== 'darwin' && os !== 'win32') throw new AgentConfigError(`--os ${os}: expected linux, darwin or win32`)
  return os
}

/** The running file, when it is the single-file executable (what `install` copies by default). */
async function selfBinary (): Promise<string | undefined> {
  try {
    // require, not import(): a single-file executable has no ESM loader for dynamic import.
    const sea = createRequire(import.meta.url)('node:sea') as { isSea: () => boolean }
    return sea.isSea() ? process.execPath : undefined
  } catch { return undefined }
}

/** Reads the enrollment token from stdin (`--enroll-token -`): never on the command line. */
function readStdinToken (): string {
  let text: string
  try { text = fs.readFileSync(0, 'utf8') } catch (err) { throw new AgentConfigError(`--enroll-token -: could not read stdin: ${(err as Error).message}`) }
  const t = text.trim()
  if (t === '') throw new AgentConfigError('--enroll-token -: stdin was empty')
  return t
}

/** --enroll-token: '-' reads stdin; a value works but is visible in `ps` to every local user, so it is warned about. */
function enrollTokenFlag (flags: Flags, warn: (s: string) => void): string | undefined {
  const v = flags['enroll-token'] as string | undefined
  if (v === undefined) return undefined
  if (v === '-') return readStdinToken()
  warn('vigie-agent: warning: --enroll-token VALUE shows the token to every local user (ps, /proc); use --enroll-token-file FILE, VIGIE_ENROLL_TOKEN or --enroll-token - (stdin)\n')
  return v
}

function configFrom (flags: Flags, fallbackConfig?: string, warn: (s: string) => void = s => { process.stderr.write(s) }): AgentConfig {
  const overrides: Partial<Record<keyof AgentConfig, unknown>> = {
    collectorUrl: flags.collector,
    enrollToken: enrollTokenFlag(flags, warn),
    enrollTokenFile: flags['enroll-token-file'],
    stateDir: flags['state-dir'],
    intervalSec: flags.interval,
    group: flags.group,
    transport: flags.transport,
    logLevel: flags['log-level'],
    probes: flags.probes,
    checkTcp: flags['check-tcp'],
    checkTcpTimeoutMs: flags['check-tcp-timeout']
  }
  let configFile = flags.config as string | undefined
  if (configFile === undefined && fallbackConfig !== undefined && fs.existsSync(fallbackConfig)) configFile = fallbackConfig
  return loadAgentConfig(overrides as Partial<AgentConfig>, { configFile })
}

export async function main (argv = process.argv.slice(2), out: (s: string) => void = s => { process.stdout.write(s) }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      collector: { type: 'string' },
      'enroll-token': { type: 'string' },
      'enroll-token-file': { type: 'string' },
      'state-dir': { type: 'string' },
      interval: { type: 'string' },
      group: { type: 'string' },
      transport: { type: 'string' },
      probes: { type: 'string' },
      'check-tcp': { type: 'string' },
      'check-tcp-timeout': { type: 'string' },
      config: { type: 'string' },
      'log-level': { type: 'string' },
      root: { type: 'string' },
      'dry-run': { type: 'boolean' },
      binary: { type: 'string' },
      'run-as-root': { type: 'boolean' },
      purge: { type: 'boolean' },
      os: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) { out(USAGE); return 0 }
  const command = positionals[0] ?? 'run'
  const flags = values as Flags
  if (command === 'version') { out(`vigie-agent ${AGENT_VERSION}\n`); return 0 }

  if (command === 'install') {
    const collector = values.collector
    const tokenFile = values['enroll-token-file']
    let token = tokenFile !== undefined ? readTokenFile(tokenFile) : enrollTokenFlag(flags, s => { process.stderr.write(s) })
    token ??= loadAgentConfig({}, {}).enrollToken
    if (collector === undefined || token === undefined) throw new AgentConfigError(`install needs --collector URL and an enrollment token (--enroll-token-file FILE, VIGIE_ENROLL_TOKEN or --enroll-token - for stdin)\n${USAGE}`)
    // Validate the URL and token the same way the agent will, before writing anything.
    const checked = loadAgentConfig({ collectorUrl: collector, enrollToken: token, stateDir: '/tmp' } as Partial<AgentConfig>, { env: {} })
    const extra: Record<string, unknown> = {}
    if (values.interval !== undefined) extra.intervalSec = Number(values.interval)
    if (values.group !== undefined) extra.group = values.group
    if (values.probes !== undefined) extra.probes = values.probes
    if (values['check-tcp'] !== undefined) extra.checkTcp = values['check-tcp']
    if (values.transport !== undefined) extra.transport = values.transport
    const binary = values.binary ?? await selfBinary()
    const plan = installPlan({ collectorUrl: checked.collectorUrl, enrollToken: token, os: targetOs(flags), binary, runAsRoot: values['run-as-root'], extra })
    const root = values.root ?? '/'
    if (root === '/' && values['dry-run'] !== true && process.platform !== 'win32' && process.getuid?.() !== 0) {
      throw new AgentConfigError('install writes system files: run it as root (or use --dry-run / --root DIR)')
    }
    if (binary === undefined) out(`note: not running as the single-file build and no --binary given; the service will run ${plan.layout.binary}, install it there\n`)
    apply(plan.actions, { root, dryRun: values['dry-run'], log: line => { out(line + '\n') } })
    out(`installed: config ${plan.layout.configFile}, service ${plan.layout.serviceName} (${plan.layout.serviceFile}), runs as ${plan.layout.user}\n`)
    return 0
  }
  if (command === 'uninstall') {
    const plan = uninstallPlan({ os: targetOs(flags), purge: values.purge })
    apply(plan.actions, { root: values.root ?? '/', dryRun: values['dry-run'], log: line => { out(line + '\n') } })
    return 0
  }
  if (command === 'status' || command === 'doctor') {
    const os = targetOs(flags)
    const config = configFrom(flags, layoutFor(os).configFile)
    if (command === 'status') { out(formatStatus(config, os)); return 0 }
    const report = await runDoctor(config)
    out(values.json === true ? JSON.stringify(report, null, 2) + '\n' : formatDoctor(report))
    return report.ok ? 0 : 1
  }
  if (command !== 'run') throw new AgentConfigError(`unknown command '${command}'\n${USAGE}`)

  const config = configFrom(flags)
  const sea = await selfBinary()
  // JSON lines (pino's format) for the service's journal; short readable lines on a terminal.
  const log = createLogger({ level: config.logLevel, name: 'vigie-agent', pretty: process.stdout.isTTY && sea === undefined })
  const agent = createAgent(config, { log })
  await new Promise<void>((resolve, reject) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'stopping')
      agent.stop().then(() => { resolve() }, reject)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    agent.start().catch(reject)
  })
  return 0
}

/** Runs the CLI and exits: 0 ok, 1 failure, 78 (EX_CONFIG) bad configuration. */
export function runCli (argv = process.argv.slice(2)): void {
  main(argv).then(code => { process.exit(code) }, (err: unknown) => {
    const e = err as Error & { code?: string }
    process.stderr.write(`vigie-agent: ${e.message}\n`)
    process.exit(e.code === 'VIGIE_ERR_CONFIG' || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 78 : 1)
  })
}

if (process.argv[1]?.endsWith('agent/main.ts') === true || process.argv[1]?.endsWith('agent/main.js') === true) runCli()
