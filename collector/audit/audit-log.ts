/**
 * Where the audit log is kept: the interface every store implements (SQLite in
 * sqlite-audit-log.ts; a network database later), with its contract in
 * test/collector/audit/contract.ts. Entries reach it already bounded and redacted
 * (audit.ts), so every implementation keeps the same thing.
 */

export interface AuditEntry {
  /** who: `user:<username>`, `token:<id>`, `agent:<id>`, `cli`, `system`, `anonymous` */
  actor: string
  /** what, dotted: `auth.login`, `auth.login_failed`, `user.create`, `token.revoke`, `agent.revoke`, `incident.resolve`, … */
  action: string
  /** on what: an id, a username */
  target?: string
  /** extra facts; never secrets (anything shaped like a Vigie token is redacted anyway) */
  detail?: Record<string, unknown>
  /** client address */
  ip?: string
}

export interface AuditRecord extends AuditEntry { id: number, atMs: number }

export interface AuditQuery {
  actor?: string
  /** exact, or a prefix when it ends in `.` or `*` (`auth.` → every sign-in event) */
  action?: string
  /** from this time, inclusive (epoch ms) */
  fromMs?: number
  /** until this time, exclusive (epoch ms) */
  toMs?: number
  /** 1 to 1000 (default 100); values outside are brought to the nearest bound */
  limit?: number
}

/** Rows kept at most, whatever the retention (a flood of failed sign-ins from many addresses stays bounded). */
export const AUDIT_MAX_ROWS = 1_000_000

/** The bounds of a query's limit. */
export const AUDIT_QUERY_LIMIT = { default: 100, max: 1000 } as const

export interface AuditLog {
  /**
   * Keeps one entry at `atMs`. Synchronous for the embedded store, inside the
   * caller's transaction when there is one; a network store queues it. May throw:
   * the caller (audit.ts) logs the failure and goes on.
   */
  record: (atMs: number, entry: AuditEntry) => void
  /** Newest first (time, then insertion order). */
  query: (q: AuditQuery) => Promise<AuditRecord[]>
  /** Drops entries older than `beforeMs`, and the oldest beyond the row bound; resolves with how many. */
  prune: (beforeMs: number) => Promise<number>
}
