/**
 * Agent configuration: command-line flags over a JSON config file over the
 * environment over defaults, validated once. Only this file reads process.env.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseTcpTargets, type TcpTarget } from './probes/tcp-check.js'

export interface AgentConfig {
  /** collector base URL, e.g. http://127.0.0.1:8480 */
  collectorUrl: string
  /** used once, to enroll; forgotten after (never kept in the state file) */
  enrollToken?: string
  /** a file holding the enrollment token (the installer's way): read once, deleted after the first successful enrollment */
  enrollTokenFile?: string
  /** the JSON config file in use, if any: an `enrollToken` in it is removed after the first successful enrollment */
  configFile?: string
  /** file with this machine's stable key (default /etc/machine-id, then /var/lib/dbus/machine-id) */
  machineKeyFile?: string
  /** name this machine reports as (default: the OS host name) */
  hostname?: string
  /** folder for the state file (agent token) and the spool */
  stateDir: string
  /** collection cadence, seconds */
  intervalSec: number
  /** the machine's group (site, department), sent with the host facts */
  group?: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** spool bounds: oldest reports are dropped (and counted) past these */
  spoolMaxBytes: number
  spoolMaxAgeHours: number
  /** 'auto' (WebSocket, HTTP fallback), 'ws' or 'http' */
  transport: 'auto' | 'ws' | 'http'
  /** CA bundle (PEM file) to verify the collector's certificate */
  caFile?: string
  /** per-probe cadence overrides, seconds (0 = every collection), or false = off; e.g. { smart: 7200, processes: false } */
  probes: Record<string, number | false>
  /** explicit TCP reachability checks (off by default: the agent connects to nothing but its collector) */
  checkTcp: TcpTarget[]
  /** timeout of each TCP check, ms */
  checkTcpTimeoutMs: number
}

export class AgentConfigError extends Error {
  readonly code = 'VIGIE_ERR_CONFIG'
}

interface Opt { key: keyof AgentConfig, env: string, description: string, parse: (raw: string) => unknown, default?: unknown }

const int = (min: number, max: number) => (raw: string): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`)
  return n
}
const oneOf = (...v: string[]) => (raw: string): string => { if (!v.includes(raw)) throw new Error(`expected one of ${v.join(', ')}`); return raw }
const str = (raw: string): string => { if (raw === '') throw new Error('expected a non-empty string'); return raw }
const httpUrl = (raw: string): string => {
  let u: URL
  try { u = new URL(raw) } catch { throw new Error('expected a URL such as http://collector.example:8480') }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('expected an http:// or https:// URL')
  return u.toString().replace(/\/$/, '')
}

/** Parses `smart=7200,processes=off,cpu=0`. */
export function parseProbeSchedule (raw: string): Record<string, number | false> {
  const out: Record<string, number | false> = {}
  for (const part of raw.split(',').map(p => p.trim()).filter(p => p !== '')) {
    const m = /^([a-z_]+)=(off|\d+)$/.exec(part)
    if (m === null) throw new Error(`expected name=seconds or name=off, comma-separated (got '${part}')`)
    const sec = m[2] === 'off' ? false : Number(m[2])
    if (sec !== false && sec > 7 * 86400) throw new Error(`${m[1]}: at most ${7 * 86400} s`)
    out[m[1]] = sec
  }
  return out
}

export function defaultStateDir (): string {
  if (process.platform === 'win32') return path.join(process.env.ProgramData ?? 'C:\\ProgramData', 'Vigie', 'agent')
  if (process.platform === 'darwin') return '/Library/Application Support/Vigie/agent'
  return process.getuid?.() === 0 ? '/var/lib/vigie-agent' : path.join(os.homedir(), '.local', 'state', 'vigie-agent')
}

export const AGENT_OPTIONS: Opt[] = [
  { key: 'collectorUrl', env: 'VIGIE_COLLECTOR_URL', description: 'collector base URL', parse: httpUrl, default: 'http://127.0.0.1:8480' },
  { key: 'enrollToken', env: 'VIGIE_ENROLL_TOKEN', description: 'enrollment token (first start only)', parse: str },
  { key: 'enrollTokenFile', env: 'VIGIE_ENROLL_TOKEN_FILE', description: 'file holding the enrollment token (deleted after enrollment)', parse: str },
  { key: 'machineKeyFile', env: 'VIGIE_AGENT_MACHINE_KEY_FILE', description: 'file with the stable machine key (default /etc/machine-id)', parse: str },
  { key: 'hostname', env: 'VIGIE_AGENT_HOSTNAME', description: 'name this machine reports as (default: the OS host name)', parse: (raw: string): string => { if (raw.length < 1 || raw.length > 255 || [...raw].some(ch => ch.charCodeAt(0) < 32)) throw new Error('expected 1 to 255 printable characters'); return raw } },
  { key: 'stateDir', env: 'VIGIE_AGENT_STATE_DIR', description: 'state and spool folder', parse: str },
  { key: 'group', env: 'VIGIE_AGENT_GROUP', description: 'machine group (site, department)', parse: (raw: string): string => { if (raw.length < 1 || raw.length > 128 || [...raw].some(ch => ch.charCodeAt(0) < 32)) throw new Error('expected 1 to 128 printable characters'); return raw } },
  { key: 'intervalSec', env: 'VIGIE_AGENT_INTERVAL', description: 'collection cadence, seconds', parse: int(1, 3600), default: 30 },
  { key: 'logLevel', env: 'VIGIE_AGENT_LOG_LEVEL', description: 'log level', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), default: 'info' },
  { key: 'spoolMaxBytes', env: 'VIGIE_AGENT_SPOOL_MAX_BYTES', description: 'spool size bound, bytes', parse: int(64 * 1024, 10 * 1024 ** 3), default: 64 * 1024 * 1024 },
  { key: 'spoolMaxAgeHours', env: 'VIGIE_AGENT_SPOOL_MAX_AGE_HOURS', description: 'spool age bound, hours', parse: int(1, 24 * 365), default: 72 },
  { key: 'transport', env: 'VIGIE_AGENT_TRANSPORT', description: "'auto', 'ws' or 'http'", parse: oneOf('auto', 'ws', 'http'), default: 'auto' },
  { key: 'caFile', env: 'VIGIE_AGENT_CA_FILE', description: 'PEM CA bundle to verify the collector', parse: str },
  { key: 'probes', env: 'VIGIE_AGENT_PROBES', description: "probe cadence overrides, e.g. 'smart=7200,processes=off'", parse: parseProbeSchedule, default: {} },
  { key: 'checkTcp', env: 'VIGIE_AGENT_CHECK_TCP', description: "explicit TCP reachability checks, e.g. 'gw.example:443,10.0.0.1:53' (default none)", parse: parseTcpTargets, default: [] },
  { key: 'checkTcpTimeoutMs', env: 'VIGIE_AGENT_CHECK_TCP_TIMEOUT_MS', description: 'timeout of each TCP check, ms', parse: int(100, 10_000), default: 2000 }
]

/**
 * Resolves the configuration: `overrides` (flags) win over the JSON file at
 * `configFile`, which wins over the environment, which wins over defaults.
 */
export function loadAgentConfig (overrides: Partial<AgentConfig> = {}, opts: { configFile?: string, env?: NodeJS.ProcessEnv } = {}): AgentConfig {
  const env = opts.env ?? process.env
  let file: Record<string, unknown> = {}
  if (opts.configFile !== undefined) {
    try {
      file = JSON.parse(fs.readFileSync(opts.configFile, 'utf8')) as Record<string, unknown>
    } catch (err) {
      throw new AgentConfigError(`config file ${opts.configFile}: ${(err as Error).message}`)
    }
  }
  const out: Record<string, unknown> = {}
  for (const o of AGENT_OPTIONS) {
    let given = overrides[o.key] ?? file[o.key]
    // The JSON file may state probe overrides as an object: { "smart": 7200, "processes": "off" }.
    if (o.key === 'probes' && given !== null && typeof given === 'object') {
      given = Object.entries(given as Record<string, unknown>).map(([k, v]) => `${k}=${v === false ? 'off' : String(v)}`).join(',')
    }
    // …and TCP checks as a list: ["gw.example:443", "10.0.0.1:53"].
    if (o.key === 'checkTcp' && Array.isArray(given)) given = given.map(String).join(',')
    const raw = given !== undefined ? String(given) : env[o.env]
    const where = given !== undefined ? (overrides[o.key] !== undefined ? `--${o.key}` : `${opts.configFile ?? ''}:${o.key}`) : o.env
    if (raw !== undefined && raw !== '') {
      try { out[o.key] = o.parse(raw) } catch (err) {
        const shown = o.key === 'enrollToken' ? '(hidden)' : JSON.stringify(raw)
        throw new AgentConfigError(`${where}=${shown}: ${(err as Error).message}`)
      }
    } else if (o.default !== undefined) out[o.key] = o.default
  }
  out.stateDir = path.resolve((out.stateDir as string | undefined) ?? defaultStateDir())
  if (opts.configFile !== undefined) out.configFile = path.resolve(opts.configFile)
  return out as unknown as AgentConfig
}
