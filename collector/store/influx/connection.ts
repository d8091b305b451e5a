/**
 * The connection to one InfluxDB 1.x server: the only place that builds an
 * `influx` client, and the place that turns its errors into sentences an
 * operator can act on. URLs may carry `user:password@`; only the redacted form
 * ever reaches a log line or an error message.
 */
import { InfluxDB, type IPoolOptions } from 'influx'
import { MetricStoreError } from './errors.js'

export interface InfluxConnection {
  client: InfluxDB
  /** the URL with any password replaced by `***`, for logs and errors */
  safeUrl: string
  username?: string
}

/** `http://user:***@host:8086/` — never the password, never a query string token. */
export function redactUrl (url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    const query = u.search
    u.search = ''
    return u.toString() + (query === '' ? '' : '?…')
  } catch {
    return '<unparseable URL>'
  }
}

// The client's pool would disable a failing host for its own backoff and answer
// "No host available" meanwhile; the store runs its own backoff and wants the
// real cause, so the pool never retries and never disables the only host.
const NO_POOL_BACKOFF = {
  getDelay: () => 0,
  next () { return NO_POOL_BACKOFF },
  reset () { return NO_POOL_BACKOFF }
}

/** Validate the URL and build a client; throws VIGIE_ERR_METRIC_STORE_CONFIG with a redacted URL. */
export function connectInflux (url: string, database: string, requestTimeoutMs: number): InfluxConnection {
  let u: URL
  try {
    u = new URL(url)
  } catch (err) {
    throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_CONFIG',
      `InfluxDB url ${redactUrl(url)} is not a URL; expected e.g. http://127.0.0.1:8086`, { cause: err })
  }
  const safeUrl = redactUrl(url)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_CONFIG',
      `InfluxDB url ${safeUrl} must start with http:// or https://`)
  }
  if (database === '' || database.length > 255) {
    throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_CONFIG',
      `InfluxDB database name ${JSON.stringify(database)} must be 1 to 255 characters`)
  }
  const username = u.username === '' ? undefined : decodeURIComponent(u.username)
  const password = u.password === '' ? undefined : decodeURIComponent(u.password)
  const pool: IPoolOptions = { maxRetries: 0, requestTimeout: requestTimeoutMs, backoff: NO_POOL_BACKOFF }
  const client = new InfluxDB({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    path: u.pathname.replace(/\/+$/, ''),
    username,
    password,
    database,
    pool
  })
  return { client, safeUrl, username }
}

/** How a failure should be handled. */
export type FailureKind =
  /** network error, timeout, 5xx: retry with backoff */
  | 'unreachable'
  /** 401: wrong credentials */
  | 'auth'
  /** 403: the user lacks a privilege */
  | 'forbidden'
  /** the database (or retention policy) is gone: run the schema set-up again */
  | 'missing'
  /** 400 from a write: InfluxDB refused some points for good (it wrote the rest) */
  | 'rejected'
  /** the server does not speak the InfluxDB 1.x API */
  | 'not-influx'
  | 'other'

export interface Failure {
  kind: FailureKind
  message: string
}

interface ErrorLike { message?: string, code?: string, res?: { statusCode?: number } }

/** Classify an `influx` client error and phrase it: `<action> at <url>: <cause>`. */
export function describeFailure (err: unknown, action: string, conn: InfluxConnection, database: string): Failure {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike
  const where = `${action} at ${conn.safeUrl}`
  const status = e.res?.statusCode
  const body = serverMessage(e.message ?? '')
  if (status === 401) {
    return { kind: 'auth', message: `${where}: InfluxDB rejected the credentials${conn.username === undefined ? ' (none were given; put user:password in the URL)' : ` of user "${conn.username}"`} (HTTP 401)` }
  }
  if (status === 403) {
    return { kind: 'forbidden', message: `${where}: user "${conn.username ?? ''}" lacks the privilege (HTTP 403: ${body})` }
  }
  if (status === 404 && /database not found|retention policy not found/.test(body)) {
    return { kind: 'missing', message: `${where}: ${body} (database "${database}")` }
  }
  if (status === 400) {
    return { kind: 'rejected', message: `${where}: InfluxDB refused points: ${body}` }
  }
  if (status !== undefined) {
    return { kind: 'not-influx', message: `${where}: the server did not answer like InfluxDB 1.x (HTTP ${status}${body === '' ? '' : ': ' + body.slice(0, 120)}); check the URL` }
  }
  if (err instanceof SyntaxError) {
    return { kind: 'not-influx', message: `${where}: the server did not answer like InfluxDB 1.x (its reply is not JSON); check the URL` }
  }
  if (typeof e.code === 'string' || /timed out|Service Unavailable|Bad Gateway|Gateway Timeout|Internal Server Error/i.test(e.message ?? '')) {
    return { kind: 'unreachable', message: `${where}: cannot reach InfluxDB (${e.message ?? e.code ?? 'unknown error'})` }
  }
  const text = e.message ?? String(err)
  if (/database not found|retention policy not found/.test(text)) {
    return { kind: 'missing', message: `${where}: ${serverMessage(text)} (database "${database}")` }
  }
  if (/not authorized|requires admin/.test(text)) {
    return { kind: 'forbidden', message: `${where}: user "${conn.username ?? ''}" lacks the privilege (${serverMessage(text)})` }
  }
  return { kind: 'other', message: `${where}: ${text}` }
}

/** The server's own words: `A 404 Not Found error occurred: {"error":"…"}` → `…`. */
function serverMessage (message: string): string {
  const brace = message.indexOf('{')
  if (brace !== -1) {
    try {
      const parsed = JSON.parse(message.slice(brace)) as { error?: unknown }
      if (typeof parsed.error === 'string') return parsed.error
    } catch { /* not JSON: keep the text */ }
  }
  return message.replace(/^A \d+ [^:]*error occurred: /, '').replace(/^Error from InfluxDB: /, '').trim()
}
