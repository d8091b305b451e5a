/**
 * Collector configuration: one schema with defaults, validated once at start-up.
 * Only this file reads process.env. Bad values fail fast naming the key, the
 * value and what was expected. docs/configuration in README lists every option.
 */
import path from 'node:path'
import { parseAllowEntry } from './allow-entry.js'

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
  /** input: live dashboard sockets per user (per token when it has no user), in total, and bytes buffered per socket before it is dropped */
  liveMaxSocketsPerUser: number
  liveMaxSockets: number
  liveMaxBufferedBytes: number
  /** input: a sample (after clock-skew correction) older than this is refused, hours; newer than now + sampleFutureSec likewise; an agent clock further than maxClockSkewHours from ours likewise */
  maxSampleAgeHours: number
  sampleFutureSec: number
  maxClockSkewHours: number
  /** cadence agents are told to report at, seconds */
  reportIntervalSec: number
  /** a fixed enrollment token accepted in addition to those created through the API (optional) */
  enrollToken?: string
  /** raw samples are kept this long */
  retentionDays: number
  /** 5-minute rollups are kept this long */
  rollupRetentionDays: number
  /** series one machine may create (store and detection); points of further series are dropped */
  maxSeriesPerMachine: number
  /** 'sqlite' (embedded, default) or 'influx' */
  metricStore: 'sqlite' | 'influx'
  influxUrl?: string
  influxDatabase: string
  /** InfluxDB rollup retention, days */
  influxRollup5mDays: number
  influxRollup1hDays: number
  /** InfluxDB shipping: flush cadence (ms), batch size (points), outbox bound (points), request timeout (ms) */
  influxFlushMs: number
  influxBatchSize: number
  influxMaxBacklog: number
  influxTimeoutMs: number
  /** create the database, retention policies and continuous queries at start (needs an InfluxDB admin user) */
  influxManageSchema: boolean
  /** folder of the technicians' web UI */
  dashboardsDir: string
  /** incidents: a cleared condition must stay clear this long before the incident auto-resolves, seconds */
  incidentHoldSec: number
  /** incidents: follow-up watch after a technician's resolution, seconds */
  incidentVerifySec: number
  /** incidents: raise severity and notify again when unacknowledged this long, seconds (0 = never) */
  incidentEscalateSec: number
  /** incidents: this many opens of one (machine, key) within the flap window mark it flapping */
  incidentFlapCount: number
  incidentFlapWindowSec: number
  /** incidents: cadence of the lifecycle timers (auto-resolve, escalation, verification, webhook retries), ms */
  incidentTickMs: number
  /** detection: engine tick cadence (offline silence, fleet outliers, change correlation), ms */
  detectTickMs: number
  /** detection: engine state saved to SQLite this often, seconds (and on close) */
  detectSaveSec: number
  /** webhooks: timeout of each delivery, ms; first retry delay (doubles per attempt), ms; outbox bound, rows */
  webhookTimeoutMs: number
  webhookRetryMs: number
  webhookOutboxMax: number
  /** webhooks: targets allowed despite being loopback/private/link-local/metadata (CIDRs, addresses, host names); default none */
  webhookAllow: string[]
  /* ---- trust (collector/auth, collector/limits, collector/core/tls.ts) ---- */
  /** PEM certificate and key files: both set → the collector speaks HTTPS/WSS only */
  tlsCert?: string
  tlsKey?: string
  /** Fastify trustProxy: false, true, a hop count, or a comma list of proxy addresses/CIDRs */
  trustProxy: boolean | number | string
  /** technician sessions (cookie) expire this long after sign-in, seconds */
  sessionTtlSec: number
  /** sign-in attempts allowed per username per 15 minutes (per IP: three times as many) */
  loginAttemptsPer15Min: number
  /** requests per minute per client address (0 = no limit) */
  rateLimitIpPerMin: number
  /** requests and stream frames per minute per agent (0 = no limit) */
  rateLimitAgentPerMin: number
  /** agents are asked to rotate their token when it is older than this, days (0 = never) */
  agentTokenRotateDays: number
  /** after a rotation the previous agent token keeps working this long, seconds */
  agentTokenGraceSec: number
  /** audit log rows older than this are pruned, days */
  auditRetentionDays: number
  /** HTTP server timeouts, ms: whole request received; idle socket; keep-alive between requests */
  requestTimeoutMs: number
  connectionTimeoutMs: number
  keepAliveTimeoutMs: number
  /** WebSocket ping cadence; a peer silent for two pings is dropped, seconds (0 = no pings) */
  wsPingSec: number
  /* ---- limits (issue 14: headers, tokens, ops) ---- */
  /** serve the dashboards' .map files (debugging only; build them with `npm run build:dashboards -- --sourcemap`) */
  sourceMaps: boolean
  /** lifetime of a new technician API token when its creator gives none, days */
  apiTokenDays: number
  /** when set, /metrics and /docs need this token (Authorization: Bearer …) or an admin API token */
  opsToken?: string
  /* ---- ops: storage (collector/store/sqlite/db.ts, collector/ops/disk.ts) ---- */
  /** /readyz reports not ready when the data folder's file system has less free space, MiB (0 = no check) */
  minFreeDiskMb: number
  /** PRAGMA quick_check at start when the database is at most this large, MiB (0 = never) */
  integrityCheckMaxMb: number
  /* ---- identity (enrollment budgets) ---- */
  /** machines (agents not revoked, pending included) the collector holds at most; further enrollments are refused */
  maxMachines: number
  /** enrollment requests (successful or not) per minute per client address, and in total (0 = no limit) */
  enrollRatePerAddressPerMin: number
  enrollRatePerMin: number
  /* ---- budgets (docs/security.md "Bounds and defences: budgets") ---- */
  /** inventory change history older than this is pruned, days */
  inventoryHistoryDays: number
  /** inventory changes recorded per report; beyond it one summary row counts the rest */
  inventoryMaxChangesPerReport: number
  /** inventory change rows kept per machine (oldest pruned beyond) */
  inventoryMaxHistoryPerMachine: number
  /** series all machines together may create; points of further new series are dropped */
  maxSeriesTotal: number
  /** open TCP connections per client address (0 = no limit) */
  maxConnectionsPerIp: number
  /** time to receive the request headers, ms (at most requestTimeoutMs) */
  headersTimeoutMs: number
  /** incidents: active incidents per machine; further findings fold into one "too many incidents" incident */
  incidentMaxOpenPerMachine: number
  /** metric queries: most points one answer may hold per series (the step is raised to fit) */
  queryMaxPoints: number
  /** metric queries: most points one answer may hold, all its series together */
  queryMaxAnswerPoints: number
  /** metric queries: longest time range of one query, days */
  queryMaxRangeDays: number
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
const bool = (raw: string): boolean => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new Error('expected true or false')
}
const url = (raw: string): string => {
  try { return new URL(raw).toString() } catch { throw new Error('expected a URL such as http://127.0.0.1:8086') }
}

const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** Variables whose value is never echoed in an error. */
const SECRET_ENV = new Set(['VIGIE_ENROLL_TOKEN', 'VIGIE_OPS_TOKEN'])

/** `http://user:secret@host` → `http://user:***@host`, so a URL with credentials can be shown. */
export function redactUrlPassword (raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/i, '$1***@')
}

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
  { key: 'maxSeriesPerMachine', env: 'VIGIE_MAX_SERIES_PER_MACHINE', description: 'series one machine may create; points of further series are dropped', parse: int(10, 1_000_000), default: 5000 },
  { key: 'rollupRetentionDays', env: 'VIGIE_ROLLUP_RETENTION_DAYS', description: 'days of 5-minute rollups kept', parse: int(1, 36500), default: 400 },
  { key: 'metricStore', env: 'VIGIE_METRIC_STORE', description: "'sqlite' or 'influx' (default: influx when VIGIE_INFLUX_URL is set)", parse: oneOf('sqlite', 'influx') },
  { key: 'influxUrl', env: 'VIGIE_INFLUX_URL', description: 'InfluxDB 1.x URL, e.g. http://127.0.0.1:8086', parse: url },
  { key: 'influxDatabase', env: 'VIGIE_INFLUX_DB', description: 'InfluxDB database name', parse: oneOfPattern(/^[A-Za-z0-9_]+$/, 'letters, digits and _'), default: 'vigie' },
  { key: 'influxRollup5mDays', env: 'VIGIE_INFLUX_ROLLUP_5M_DAYS', description: 'days of 5-minute rollups kept in InfluxDB', parse: int(1, 36500), default: 90 },
  { key: 'influxRollup1hDays', env: 'VIGIE_INFLUX_ROLLUP_1H_DAYS', description: 'days of hourly rollups kept in InfluxDB', parse: int(1, 36500), default: 730 },
  { key: 'influxFlushMs', env: 'VIGIE_INFLUX_FLUSH_MS', description: 'ship buffered points to InfluxDB at least this often, ms', parse: int(10, 600_000), default: 1000 },
  { key: 'influxBatchSize', env: 'VIGIE_INFLUX_BATCH_SIZE', description: 'points per InfluxDB write', parse: int(1, 100_000), default: 5000 },
  { key: 'influxMaxBacklog', env: 'VIGIE_INFLUX_MAX_BACKLOG', description: 'points buffered while InfluxDB is down before ingest answers 503', parse: int(1000, 1_000_000_000), default: 2_000_000 },
  { key: 'influxTimeoutMs', env: 'VIGIE_INFLUX_TIMEOUT_MS', description: 'InfluxDB request timeout, ms', parse: int(100, 600_000), default: 10_000 },
  { key: 'influxManageSchema', env: 'VIGIE_INFLUX_MANAGE_SCHEMA', description: 'create database, retention policies and continuous queries at start (true/false)', parse: bool, default: true },
  { key: 'dashboardsDir', env: 'VIGIE_DASHBOARDS_DIR', description: 'folder of the web UI', parse: str, default: path.join(ROOT, 'dashboards', 'dist') },
  { key: 'incidentHoldSec', env: 'VIGIE_INCIDENT_HOLD_SEC', description: 'seconds a condition must stay clear before its incident auto-resolves', parse: int(0, 86_400), default: 300 },
  { key: 'incidentVerifySec', env: 'VIGIE_INCIDENT_VERIFY_SEC', description: "seconds a machine is watched after a technician's resolution", parse: int(0, 90 * 86_400), default: 86_400 },
  { key: 'incidentEscalateSec', env: 'VIGIE_INCIDENT_ESCALATE_SEC', description: 'seconds unacknowledged before an incident escalates (0 = never)', parse: int(0, 30 * 86_400), default: 1800 },
  { key: 'incidentFlapCount', env: 'VIGIE_INCIDENT_FLAP_COUNT', description: 'opens within the flap window that mark an incident flapping', parse: int(2, 1000), default: 4 },
  { key: 'incidentFlapWindowSec', env: 'VIGIE_INCIDENT_FLAP_WINDOW_SEC', description: 'flap window, seconds', parse: int(60, 7 * 86_400), default: 3600 },
  { key: 'incidentTickMs', env: 'VIGIE_INCIDENT_TICK_MS', description: 'cadence of incident timers and webhook retries, ms', parse: int(50, 600_000), default: 5000 },
  { key: 'detectTickMs', env: 'VIGIE_DETECT_TICK_MS', description: 'detection engine tick cadence, ms', parse: int(100, 3_600_000), default: 30_000 },
  { key: 'detectSaveSec', env: 'VIGIE_DETECT_SAVE_SEC', description: 'detection state saved this often, seconds', parse: int(1, 86_400), default: 60 },
  { key: 'webhookTimeoutMs', env: 'VIGIE_WEBHOOK_TIMEOUT_MS', description: 'timeout of one webhook delivery, ms', parse: int(100, 120_000), default: 10_000 },
  { key: 'webhookRetryMs', env: 'VIGIE_WEBHOOK_RETRY_MS', description: 'first webhook retry delay, ms (doubles per attempt, at most 1 h)', parse: int(10, 3_600_000), default: 5000 },
  { key: 'webhookOutboxMax', env: 'VIGIE_WEBHOOK_OUTBOX_MAX', description: 'webhook deliveries kept waiting at most (oldest dropped beyond)', parse: int(10, 10_000_000), default: 10_000 },
  { key: 'webhookAllow', env: 'VIGIE_WEBHOOK_ALLOW', description: 'webhook targets allowed although loopback, private, link-local or metadata: CIDRs, addresses, host names (comma list; default none)', parse: (raw) => raw.split(',').map(e => e.trim()).filter(e => e !== '').map(parseAllowEntry), default: [] },
  // trust: TLS, proxies, sessions, limits, audit (docs/security.md, docs/deployment.md)
  { key: 'tlsCert', env: 'VIGIE_TLS_CERT', description: 'PEM certificate file (with VIGIE_TLS_KEY: serve HTTPS/WSS)', parse: str },
  { key: 'tlsKey', env: 'VIGIE_TLS_KEY', description: 'PEM private key file of VIGIE_TLS_CERT', parse: str },
  { key: 'trustProxy', env: 'VIGIE_TRUST_PROXY', description: "trust X-Forwarded-* from: 'false', 'true', a hop count, or proxy addresses/CIDRs (comma list)", parse: trustProxy, default: false },
  { key: 'sessionTtlSec', env: 'VIGIE_SESSION_TTL_SEC', description: 'technician session lifetime, seconds', parse: int(60, 30 * 86_400), default: 43_200 },
  { key: 'loginAttemptsPer15Min', env: 'VIGIE_LOGIN_ATTEMPTS', description: 'sign-in attempts per username per 15 min (per IP: 3×)', parse: int(1, 10_000), default: 10 },
  { key: 'rateLimitIpPerMin', env: 'VIGIE_RATE_LIMIT_IP', description: 'requests per minute per client address (0 = off)', parse: int(0, 10_000_000), default: 3000 },
  { key: 'rateLimitAgentPerMin', env: 'VIGIE_RATE_LIMIT_AGENT', description: 'requests and stream frames per minute per agent (0 = off)', parse: int(0, 10_000_000), default: 240 },
  { key: 'agentTokenRotateDays', env: 'VIGIE_AGENT_TOKEN_ROTATE_DAYS', description: 'ask agents to rotate tokens older than this, days (0 = never)', parse: int(0, 3650), default: 30 },
  { key: 'agentTokenGraceSec', env: 'VIGIE_AGENT_TOKEN_GRACE_SEC', description: 'the previous agent token keeps working this long after a rotation, seconds', parse: int(0, 30 * 86_400), default: 86_400 },
  { key: 'auditRetentionDays', env: 'VIGIE_AUDIT_RETENTION_DAYS', description: 'days of audit log kept', parse: int(1, 36_500), default: 365 },
  { key: 'requestTimeoutMs', env: 'VIGIE_REQUEST_TIMEOUT_MS', description: 'time to receive a whole request, ms', parse: int(1000, 3_600_000), default: 30_000 },
  { key: 'connectionTimeoutMs', env: 'VIGIE_CONNECTION_TIMEOUT_MS', description: 'idle HTTP socket timeout, ms (0 = none)', parse: int(0, 3_600_000), default: 120_000 },
  { key: 'keepAliveTimeoutMs', env: 'VIGIE_KEEPALIVE_TIMEOUT_MS', description: 'keep-alive between requests, ms (above the proxy\'s own)', parse: int(1000, 3_600_000), default: 72_000 },
  { key: 'wsPingSec', env: 'VIGIE_WS_PING_SEC', description: 'WebSocket ping cadence, seconds; silent peers dropped after two (0 = off)', parse: int(0, 3600), default: 30 },
  // limits: headers, API-token expiry, operator routes (docs/security.md)
  { key: 'sourceMaps', env: 'VIGIE_SOURCE_MAPS', description: 'serve the dashboards\' .map files (true/false)', parse: bool, default: false },
  { key: 'apiTokenDays', env: 'VIGIE_API_TOKEN_DAYS', description: 'default lifetime of a new technician API token, days', parse: int(1, 3650), default: 90 },
  { key: 'opsToken', env: 'VIGIE_OPS_TOKEN', description: 'when set, /metrics and /docs need this bearer token (or an admin token); at least 16 characters', parse: (raw) => { if (raw.length < 16) throw new Error('expected at least 16 characters'); return raw } },
  // ops: storage (docs/storage.md)
  { key: 'minFreeDiskMb', env: 'VIGIE_MIN_FREE_DISK_MB', description: '/readyz is not ready below this free space in the data folder, MiB (0 = off)', parse: int(0, 1_048_576), default: 64 },
  { key: 'integrityCheckMaxMb', env: 'VIGIE_INTEGRITY_CHECK_MAX_MB', description: 'integrity check (PRAGMA quick_check) at start for databases up to this size, MiB (0 = never)', parse: int(0, 10_485_760), default: 512 },
  // identity: enrollment budgets (docs/security.md)
  { key: 'maxMachines', env: 'VIGIE_MAX_MACHINES', description: 'machines (not revoked, pending included) the collector holds at most', parse: int(1, 10_000_000), default: 50_000 },
  { key: 'enrollRatePerAddressPerMin', env: 'VIGIE_ENROLL_RATE_PER_ADDRESS', description: 'enrollment requests per minute per client address, successful or not (0 = off)', parse: int(0, 1_000_000), default: 30 },
  { key: 'enrollRatePerMin', env: 'VIGIE_ENROLL_RATE', description: 'enrollment requests per minute in total, successful or not (0 = off)', parse: int(0, 10_000_000), default: 600 },
  { key: 'liveMaxSocketsPerUser', env: 'VIGIE_LIVE_MAX_SOCKETS_PER_USER', description: 'live dashboard sockets one user (or token) may hold open', parse: int(1, 10_000), default: 8 },
  { key: 'liveMaxSockets', env: 'VIGIE_LIVE_MAX_SOCKETS', description: 'live dashboard sockets open in total', parse: int(1, 1_000_000), default: 500 },
  { key: 'liveMaxBufferedBytes', env: 'VIGIE_LIVE_MAX_BUFFERED_BYTES', description: 'bytes a live socket may have unsent before it is dropped as too slow', parse: int(16 * 1024, 256 * 1024 * 1024), default: 1024 * 1024 },
  { key: 'maxSampleAgeHours', env: 'VIGIE_MAX_SAMPLE_AGE_HOURS', description: 'reports sampled longer ago than this are refused (400), hours; above the agent spool age bound (72 h)', parse: int(1, 24 * 3650), default: 78 },
  { key: 'sampleFutureSec', env: 'VIGIE_SAMPLE_FUTURE_SEC', description: 'reports sampled (after clock correction) further ahead than this are refused (400), seconds', parse: int(1, 86_400), default: 600 },
  { key: 'maxClockSkewHours', env: 'VIGIE_MAX_CLOCK_SKEW_HOURS', description: 'an agentClock further from the collector clock than this is refused (400), hours', parse: int(1, 24 * 3650), default: 168 },
  // budgets: bounds on what a client can make the collector keep or do (docs/security.md)
  { key: 'inventoryHistoryDays', env: 'VIGIE_INVENTORY_HISTORY_DAYS', description: 'days of inventory change history kept', parse: int(1, 36_500), default: 180 },
  { key: 'inventoryMaxChangesPerReport', env: 'VIGIE_INVENTORY_MAX_CHANGES_PER_REPORT', description: 'inventory changes recorded per report; the rest are counted in one summary row', parse: int(10, 1_000_000), default: 2000 },
  { key: 'inventoryMaxHistoryPerMachine', env: 'VIGIE_INVENTORY_MAX_HISTORY_PER_MACHINE', description: 'inventory change rows kept per machine (oldest pruned)', parse: int(100, 10_000_000), default: 20_000 },
  { key: 'maxSeriesTotal', env: 'VIGIE_MAX_SERIES_TOTAL', description: 'series all machines together may create; points of further new series are dropped', parse: int(10, 1_000_000_000), default: 2_000_000 },
  { key: 'maxConnectionsPerIp', env: 'VIGIE_MAX_CONNECTIONS_PER_IP', description: 'open connections per client address (0 = off; raise behind a reverse proxy)', parse: int(0, 1_000_000), default: 256 },
  { key: 'headersTimeoutMs', env: 'VIGIE_HEADERS_TIMEOUT_MS', description: 'time to receive the request headers, ms (at most VIGIE_REQUEST_TIMEOUT_MS)', parse: int(1000, 3_600_000), default: 30_000 },
  { key: 'incidentMaxOpenPerMachine', env: 'VIGIE_INCIDENT_MAX_OPEN_PER_MACHINE', description: 'active incidents per machine; further findings fold into one "too many incidents" incident', parse: int(2, 100_000), default: 50 },
  { key: 'queryMaxPoints', env: 'VIGIE_QUERY_MAX_POINTS', description: 'points per series in one metric answer (the step is raised to fit)', parse: int(100, 1_000_000), default: 10_000 },
  { key: 'queryMaxAnswerPoints', env: 'VIGIE_QUERY_MAX_ANSWER_POINTS', description: 'points in one metric answer, all its series together (a name with many series needs a larger step or a label filter)', parse: int(1000, 10_000_000), default: 100_000 },
  { key: 'queryMaxRangeDays', env: 'VIGIE_QUERY_MAX_RANGE_DAYS', description: 'longest time range of one metric query, days', parse: int(1, 36_500), default: 800 }
]

function trustProxy (raw: string): boolean | number | string {
  if (raw === 'true') return true
  if (raw === 'false') return false
  if (/^\d+$/.test(raw)) return int(1, 100)(raw)
  const parts = raw.split(',').map(p => p.trim())
  if (parts.some(p => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(p) && !['loopback', 'linklocal', 'uniquelocal'].includes(p))) {
    throw new Error('expected true, false, a hop count, or addresses/CIDRs such as 10.0.0.1,192.168.0.0/16')
  }
  return parts.join(',')
}

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
        const shown = SECRET_ENV.has(opt.env) ? '(hidden)' : JSON.stringify(redactUrlPassword(raw))
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
  if ((out.tlsCert === undefined) !== (out.tlsKey === undefined)) {
    throw new ConfigError('VIGIE_TLS_CERT and VIGIE_TLS_KEY go together: set both or neither')
  }
  out.dataDir = path.resolve(out.dataDir as string)
  return out as unknown as CollectorConfig
}
