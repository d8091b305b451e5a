/**
 * The audit log: every technician action and security event (sign-ins, failed
 * ones, token and user changes, enrollment, agent revocation and rotation), in
 * the embedded database, queryable by admins (GET /api/v1/admin/audit).
 *
 * Any area records an action with `audit(app, { actor, action, target, detail })`;
 * `actorOf(request)` names who made a request. Recording never throws: a full disk
 * must not turn a technician's action into a 500 (the failure is logged instead).
 */
import type { FastifyRequest } from 'fastify'
import type { Db } from '../store/sqlite/db.js'
import { migrate } from '../store/sqlite/db.js'
import { redactSecrets } from '../core/secrets.js'

const AUDIT_MIGRATIONS = [
  `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    ip TEXT,
    detail_json TEXT
  );
  CREATE INDEX audit_at ON audit_log(at_ms);
  CREATE INDEX audit_actor ON audit_log(actor, at_ms);
  CREATE INDEX audit_action ON audit_log(action, at_ms);
  `
]

/** Rows kept at most, whatever the retention (a flood of failed sign-ins from many addresses stays bounded). */
export const AUDIT_MAX_ROWS = 1_000_000

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

interface AuditHost { db: Db, now: () => number }
interface Logger { warn: (o: object, m: string) => void }

const migrated = new WeakSet<Db>()
function ready (db: Db): void {
  if (migrated.has(db)) return
  migrate(db, { name: 'audit', sql: AUDIT_MIGRATIONS })
  migrated.add(db)
}

/** Creates the audit table (done by buildApp; `audit()` also does it on first use). */
export function migrateAudit (db: Db): void { ready(db) }

/** Records one action. Never throws. */
export function audit (vigie: AuditHost & { log?: Logger }, entry: AuditEntry): void {
  try {
    ready(vigie.db)
    const detail = entry.detail === undefined ? null : redactSecrets(JSON.stringify(entry.detail)).slice(0, 4000)
    vigie.db.prepare('INSERT INTO audit_log (at_ms, actor, action, target, ip, detail_json) VALUES (?, ?, ?, ?, ?, ?)')
      .run(vigie.now(), entry.actor.slice(0, 200), entry.action.slice(0, 100), entry.target?.slice(0, 200) ?? null, entry.ip?.slice(0, 64) ?? null, detail)
  } catch (err) {
    vigie.log?.warn({ err: (err as Error).message, action: entry.action }, 'audit record failed')
  }
}

export interface AuditQuery { actor?: string, action?: string, fromMs?: number, toMs?: number, limit?: number }

/** Newest first. `action` ending in `.` or `*` matches a prefix (`auth.` → every sign-in event). */
export function queryAudit (db: Db, q: AuditQuery): AuditRecord[] {
  ready(db)
  const where: string[] = []
  const args: unknown[] = []
  if (q.actor !== undefined) { where.push('actor = ?'); args.push(q.actor) }
  if (q.action !== undefined) {
    if (q.action.endsWith('*') || q.action.endsWith('.')) {
      where.push("action LIKE ? ESCAPE '\\'")
      args.push(q.action.replace(/\*$/, '').replace(/[%_\\]/g, m => '\\' + m) + '%')
    } else { where.push('action = ?'); args.push(q.action) }
  }
  if (q.fromMs !== undefined) { where.push('at_ms >= ?'); args.push(q.fromMs) }
  if (q.toMs !== undefined) { where.push('at_ms < ?'); args.push(q.toMs) }
  const sql = `SELECT * FROM audit_log ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY at_ms DESC, id DESC LIMIT ?`
  args.push(Math.min(Math.max(q.limit ?? 100, 1), 1000))
  return (db.prepare(sql).all(...args) as Array<{ id: number, at_ms: number, actor: string, action: string, target: string | null, ip: string | null, detail_json: string | null }>)
    .map(r => {
      const rec: AuditRecord = { id: r.id, atMs: r.at_ms, actor: r.actor, action: r.action }
      if (r.target !== null) rec.target = r.target
      if (r.ip !== null) rec.ip = r.ip
      if (r.detail_json !== null) rec.detail = JSON.parse(r.detail_json) as Record<string, unknown>
      return rec
    })
}

/** Drops rows older than the retention, and the oldest beyond AUDIT_MAX_ROWS. */
export function pruneAudit (db: Db, beforeMs: number): number {
  ready(db)
  let n = db.prepare('DELETE FROM audit_log WHERE at_ms < ?').run(beforeMs).changes
  const max = (db.prepare('SELECT MAX(id) AS m FROM audit_log').get() as { m: number | null }).m
  if (max !== null) n += db.prepare('DELETE FROM audit_log WHERE id <= ?').run(max - AUDIT_MAX_ROWS).changes
  return n
}

/** Who made a request, for the `actor` field. */
export function actorOf (request: FastifyRequest): string {
  if (request.user !== undefined) return `user:${request.user.username}`
  if (request.technician !== undefined) return `token:${request.technician.id}`
  if (request.agent !== undefined) return `agent:${request.agent.id}`
  return 'anonymous'
}
