/** The audit log in the collector's SQLite database (table audit_log). */
import type { Db } from '../store/sqlite/db.js'
import { migrate } from '../store/sqlite/db.js'
import { AUDIT_MAX_ROWS, AUDIT_QUERY_LIMIT, type AuditEntry, type AuditLog, type AuditQuery, type AuditRecord } from './audit-log.js'

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

type Row = { id: number, at_ms: number, actor: string, action: string, target: string | null, ip: string | null, detail_json: string | null }

export class SqliteAuditLog implements AuditLog {
  readonly #db: Db
  readonly #maxRows: number

  /** `maxRows`: the row bound (tests lower it). */
  constructor (db: Db, opts: { maxRows?: number } = {}) {
    this.#db = db
    this.#maxRows = opts.maxRows ?? AUDIT_MAX_ROWS
    migrate(db, { name: 'audit', sql: AUDIT_MIGRATIONS })
  }

  record (atMs: number, entry: AuditEntry): void {
    this.#db.prepare('INSERT INTO audit_log (at_ms, actor, action, target, ip, detail_json) VALUES (?, ?, ?, ?, ?, ?)')
      .run(atMs, entry.actor, entry.action, entry.target ?? null, entry.ip ?? null, entry.detail === undefined ? null : JSON.stringify(entry.detail))
  }

  async query (q: AuditQuery): Promise<AuditRecord[]> {
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
    args.push(Math.min(Math.max(q.limit ?? AUDIT_QUERY_LIMIT.default, 1), AUDIT_QUERY_LIMIT.max))
    return (this.#db.prepare(sql).all(...args) as Row[]).map(r => {
      const rec: AuditRecord = { id: r.id, atMs: r.at_ms, actor: r.actor, action: r.action }
      if (r.target !== null) rec.target = r.target
      if (r.ip !== null) rec.ip = r.ip
      if (r.detail_json !== null) rec.detail = JSON.parse(r.detail_json) as Record<string, unknown>
      return rec
    })
  }

  async prune (beforeMs: number): Promise<number> {
    let n = this.#db.prepare('DELETE FROM audit_log WHERE at_ms < ?').run(beforeMs).changes
    const max = (this.#db.prepare('SELECT MAX(id) AS m FROM audit_log').get() as { m: number | null }).m
    if (max !== null) n += this.#db.prepare('DELETE FROM audit_log WHERE id <= ?').run(max - this.#maxRows).changes
    return n
  }
}
