/**
 * Collector configuration: one schema with defaults, validated once at start-up.
 * Only this file reads process.env. Bad values fail fast naming the key, the
 * value and what was expected. docs/configuration in README lists every option.
 */
import path from 'node:path'

export interface CollectorConfig {
  /** address to listen on; loopback unless told otherwise */
  host: string
  /** 0 = any free port */
  port: number
  /** folder for the SQLite database and buffers */
  dataDir: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** largest HTTP body accepted, bytes */
  bodyLimitBytes: number
  /** cadence agents are told to report at, seconds */
  reportIntervalSec: number
  /** a fixed enrollment token accepted in addition to those created through the API (optional) */
  enrollToken?: string
  /** raw samples are kept this long */
  retentionDays: number
  /** 'sqlite' (embedded, default) or 'influx' */
  metricStore: 'sqlite' | 'influx'
  influxUrl?: string
  influxDatabase: string
  /** folder of the technicians' web UI */
  dashboardsDir: string
}

interface Option {
  key: keyof CollectorConfig
  env: string
  description: string
  parse: (raw: string) => unknown
  default?: unknown
}

function int (min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`)
    return n
  }
}
function oneOf<T extends string> (...values: T[]) {
  return (raw: string): T => {
    if (!(values as string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`)
    return raw as T
  }
}
const str = (raw: string): string => {
  if (raw.length === 0) throw new Error('expected a non-empty string')
  return raw
}
const url = (raw: string): string => {
  try { return new URL(raw).toString() } catch { throw new Error('expected a URL such as http://127.0.0.1:8086') }
}

const ROOT = path.resolve(import.meta.dirname, '..')

/** Every option, its environment variable and default; the README's configuration table mirrors this. */
export const COLLECTOR_OPTIONS: Option[] = [
  { key: 'host', env: 'VIGIE_HOST', description: 'listen address', parse: str, default: '127.0.0.1' },
  { key: 'port', env: 'VIGIE_PORT', description: 'listen port (0 = any free port)', parse: int(0, 65535), default: 8480 },
  { key: 'dataDir', env: 'VIGIE_DATA_DIR', description: 'data folder (SQLite database, buffers)', parse: str, default: './data' },
  { key: 'logLevel', env: 'VIGIE_LOG_LEVEL', description: 'log level', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'), default: 'info' },
  { key: 'bodyLimitBytes', env: 'VIGIE_BODY_LIMIT', description: 'largest HTTP body, bytes', parse: int(1024, 64 * 1024 * 1024), default: 1024 * 1024 },
  { key: 'reportIntervalSec', env: 'VIGIE_REPORT_INTERVAL', description: 'report cadence given to agents, seconds', parse: int(1, 3600), default: 30 },
  { key: 'enrollToken', env: 'VIGIE_ENROLL_TOKEN', description: 'a fixed enrollment token (optional; at least 16 characters)', parse: (raw) => { if (raw.length < 16) throw new Error('expected at least 16 characters'); return raw } },
  { key: 'retentionDays', env: 'VIGIE_RETENTION_DAYS', description: 'days of raw samples kept', parse: int(1, 3650), default: 30 },
  { key: 'metricStore', env: 'VIGIE_METRIC_STORE', description: "'sqlite' or 'influx' (default: influx when VIGIE_INFLUX_URL is set)", parse: oneOf('sqlite', 'influx') },
  { key: 'influxUrl', env: 'VIGIE_INFLUX_URL', description: 'InfluxDB 1.x URL, e.g. http://127.0.0.1:8086', parse: url },
  { key: 'influxDatabase', env: 'VIGIE_INFLUX_DB', description: 'InfluxDB database name', parse: oneOfPattern(/^[A-Za-z0-9_]+$/, 'letters, digits and _'), default: 'vigie' },
  { key: 'dashboardsDir', env: 'VIGIE_DASHBOARDS_DIR', description: 'folder of the web UI', parse: str, default: path.join(ROOT, 'dashboards', 'dist') }
]

function oneOfPattern (re: RegExp, what: string) {
  return (raw: string): string => {
    if (!re.test(raw)) throw new Error(`expected ${what}`)
    return raw
  }
}

export class ConfigError extends Error {
  readonly code = 'VIGIE_ERR_CONFIG'
}

/**
 * Resolves the configuration from explicit overrides, then the environment, then
 * defaults. Throws ConfigError naming the variable, its value and what was expected.
 */
export function loadCollectorConfig (overrides: Partial<CollectorConfig> = {}, env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const out: Record<string, unknown> = {}
  for (const opt of COLLECTOR_OPTIONS) {
    if (overrides[opt.key] !== undefined) { out[opt.key] = overrides[opt.key]; continue }
    const raw = env[opt.env]
    if (raw !== undefined && raw !== '') {
      try {
        out[opt.key] = opt.parse(raw)
      } catch (err) {
        const shown = opt.env === 'VIGIE_ENROLL_TOKEN' ? '(hidden)' : JSON.stringify(raw)
        throw new ConfigError(`${opt.env}=${shown}: ${(err as Error).message}`)
      }
    } else if (opt.default !== undefined) {
      out[opt.key] = opt.default
    }
  }
  if (out.metricStore === undefined) out.metricStore = out.influxUrl !== undefined ? 'influx' : 'sqlite'
  if (out.metricStore === 'influx' && out.influxUrl === undefined) {
    throw new ConfigError('VIGIE_METRIC_STORE=influx needs VIGIE_INFLUX_URL')
  }
  out.dataDir = path.resolve(out.dataDir as string)
  return out as unknown as CollectorConfig
}
