/**
 * Every error the collector returns has a stable code. Callers (agents of other
 * versions, scripts, the dashboard) match on `code`, never on the message.
 * docs/errors.md lists each one; test/collector/core/errors.test.ts checks the list is
 * complete. A retired code is never reused.
 */
export const ERROR_CODES = {
  VIGIE_ERR_VALIDATION: { statusCode: 400, text: 'request does not match the schema' },
  VIGIE_ERR_MALFORMED_JSON: { statusCode: 400, text: 'body is not valid JSON' },
  VIGIE_ERR_UNAUTHORIZED: { statusCode: 401, text: 'missing, unknown or revoked token' },
  VIGIE_ERR_ENROLL_TOKEN: { statusCode: 401, text: 'enrollment token unknown, expired or used up' },
  VIGIE_ERR_FORBIDDEN: { statusCode: 403, text: 'token valid but not allowed here' },
  VIGIE_ERR_AGENT_MISMATCH: { statusCode: 403, text: 'a report names another agent than the token' },
  VIGIE_ERR_NOT_FOUND: { statusCode: 404, text: 'no such resource' },
  VIGIE_ERR_ROUTE_NOT_FOUND: { statusCode: 404, text: 'no such route' },
  VIGIE_ERR_CONFLICT: { statusCode: 409, text: 'the resource is not in a state that allows this' },
  VIGIE_ERR_BODY_TOO_LARGE: { statusCode: 413, text: 'body over the size limit' },
  VIGIE_ERR_UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, text: 'content type not accepted' },
  VIGIE_ERR_RATE_LIMITED: { statusCode: 429, text: 'too many requests; retry after the given delay' },
  VIGIE_ERR_STORE_UNAVAILABLE: { statusCode: 503, text: 'the store cannot accept writes now; retry later' },
  VIGIE_ERR_SHUTTING_DOWN: { statusCode: 503, text: 'the collector is stopping' },
  VIGIE_ERR_INTERNAL: { statusCode: 500, text: 'unexpected server error' },
  // Metric store (collector/store/influx/errors.ts raises these).
  VIGIE_ERR_METRIC_BACKLOG_FULL: { statusCode: 503, text: 'the metric buffer holds its maximum while InfluxDB is unavailable; retry later' },
  VIGIE_ERR_METRIC_STORE_UNAVAILABLE: { statusCode: 503, text: 'the metric store cannot answer now' },
  VIGIE_ERR_METRIC_STORE_CONFIG: { statusCode: 500, text: 'the metric store options are unusable' },
  VIGIE_ERR_METRIC_QUERY_INVALID: { statusCode: 400, text: 'the series query is impossible' },
  // WebSocket-only: sent as { type: 'error', code } frames or as close reasons.
  VIGIE_ERR_FRAME_INVALID: { statusCode: 400, text: 'WebSocket frame is not a valid message' },
  VIGIE_ERR_FRAME_TOO_LARGE: { statusCode: 413, text: 'WebSocket frame over the size limit' },
  // trust (collector/auth): sign-in and cross-site request protection
  VIGIE_ERR_LOGIN_FAILED: { statusCode: 401, text: 'wrong username or password' },
  VIGIE_ERR_CSRF: { statusCode: 403, text: 'cross-site request refused: missing or wrong x-csrf-token header, or foreign Origin' },
  // limits (issue 14): password policy, API-token expiry
  VIGIE_ERR_PASSWORD_POLICY: { statusCode: 400, text: 'the password does not meet the policy (12 to 1024 characters, not only white space)' },
  VIGIE_ERR_TOKEN_EXPIRED: { statusCode: 401, text: 'the API token has expired; create a new one' },
  VIGIE_ERR_WEBHOOK_TARGET: { statusCode: 400, text: 'webhook target is (or resolves to) a loopback, private, link-local, multicast or metadata address not in VIGIE_WEBHOOK_ALLOW' },
  // identity (agent enrollment, revocation, approval)
  VIGIE_ERR_AGENT_REVOKED: { statusCode: 401, text: 'this agent was revoked by an admin; only an admin can reinstate it' },
  VIGIE_ERR_AGENT_PENDING: { statusCode: 403, text: 'this machine awaits an admin\'s approval; its reports are refused until then' },
  VIGIE_ERR_MACHINE_LIMIT: { statusCode: 503, text: 'the collector holds its maximum number of machines (VIGIE_MAX_MACHINES)' },
  // input (collector/ingest, collector/live): closed input, sequence continuity, time window, live socket budgets
  VIGIE_ERR_JSON_TOO_DEEP: { statusCode: 400, text: 'JSON nests arrays/objects deeper than the limit' },
  VIGIE_ERR_SEQ_CONFLICT: { statusCode: 409, text: 'this (agent, seq) is already stored with different content; the report is refused, never acknowledged' },
  VIGIE_ERR_SEQ_JUMP: { statusCode: 400, text: 'seq jumps too far above the highest seq stored for this agent' },
  VIGIE_ERR_TIME_INVALID: { statusCode: 400, text: 'sampledAt or agentClock is not a usable time (leap second, far future, older than the spool keeps)' },
  VIGIE_ERR_LIVE_LIMIT: { statusCode: 429, text: 'too many live sockets for this user or in total' }
} as const

export type ErrorCode = keyof typeof ERROR_CODES

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

/** An error with a stable code and an HTTP status; `path` names the failing field for validation errors. */
export class VigieError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly path?: string
  readonly headers?: Record<string, string>

  constructor (code: ErrorCode, message?: string, opts: { path?: string, cause?: unknown, headers?: Record<string, string> } = {}) {
    super(message ?? ERROR_CODES[code].text, { cause: opts.cause })
    this.name = 'VigieError'
    this.code = code
    this.statusCode = ERROR_CODES[code].statusCode
    if (opts.path !== undefined) this.path = opts.path
    if (opts.headers !== undefined) this.headers = opts.headers
  }
}

export interface ErrorBodyShape {
  statusCode: number
  code: string
  error: string
  message: string
  path?: string
}

export function errorBody (code: ErrorCode, message: string, path?: string): ErrorBodyShape {
  const statusCode = ERROR_CODES[code].statusCode
  const body: ErrorBodyShape = { statusCode, code, error: STATUS_TEXT[statusCode] ?? 'Error', message }
  if (path !== undefined) body.path = path
  return body
}
