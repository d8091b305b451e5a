/**
 * Every error the agent raises has a stable code, as the collector's do
 * (collector/core/errors.ts): logs, `doctor` and scripts match on `code`, never on
 * the message. docs/agent.md lists each one; test/agent/errors.test.ts checks
 * the list is complete. A retired code is never reused. Configuration errors
 * keep the code they share with the collector, `VIGIE_ERR_CONFIG` (exit 78).
 */
export const AGENT_ERROR_CODES = {
  // enrollment (agent/enroll.ts)
  VIGIE_AGENT_ERR_NO_ENROLL_TOKEN: 'not enrolled, and no enrollment token was given',
  VIGIE_AGENT_ERR_ENROLL_TOKEN_FILE: 'the enrollment token file exists but cannot be read',
  VIGIE_AGENT_ERR_ENROLL_REFUSED: 'the collector refused the enrollment for good (token unknown, expired or used up; a request it will never accept)',
  // state (agent/state.ts)
  VIGIE_AGENT_ERR_STATE_DAMAGED: 'state.json cannot be read as the agent\'s identity',
  VIGIE_AGENT_ERR_STATE_WRITE: 'state.json could not be written (full disk, permissions); the state stays in memory',
  // the agent's own API (agent/agent.ts)
  VIGIE_AGENT_ERR_NOT_STARTED: 'a collection was asked of an agent not started',
  // sending (agent/transport.ts, by SendError kind; agent/ship.ts decides what each means)
  VIGIE_AGENT_ERR_UNREACHABLE: 'the collector did not answer, or answered something unusable (network error, timeout, 5xx, over 1 MiB)',
  VIGIE_AGENT_ERR_UNAUTHORIZED: 'the collector refused the agent token (401, stream close 4001 or 4010)',
  VIGIE_AGENT_ERR_FORBIDDEN: 'the collector refused the request with 403 (a machine pending approval, or a report it will never take)',
  VIGIE_AGENT_ERR_REJECTED: 'the collector will never accept this report (validation, seq conflict or jump, time outside its window)',
  VIGIE_AGENT_ERR_TOO_LARGE: 'the batch or report is over the collector\'s size limit (413, stream close 1009)',
  VIGIE_AGENT_ERR_BUSY: 'the collector cannot take it now (429, 503, stream close 1013, a retryable stream error)'
} as const

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES

/** An agent error: a stable `code`, the message for people, and `cause` when it wraps another error. */
export class AgentError extends Error {
  readonly code: AgentErrorCode
  /** the operating system's error code (ENOSPC, EACCES…), when one caused it */
  readonly errno?: string

  constructor (code: AgentErrorCode, message: string, opts: { cause?: unknown, errno?: string } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined)
    this.name = 'AgentError'
    this.code = code
    if (opts.errno !== undefined) this.errno = opts.errno
  }
}
