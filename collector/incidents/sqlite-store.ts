/**
 * The incident repository (repository.ts) in the collector's SQLite database. A
 * partial unique index keeps one active incident per (machine, key) whatever the
 * caller does; the row shapes are in rows.ts.
 *
 * better-sqlite3 is synchronous: every method does its work at once and returns a
 * settled promise, so a transaction whose `fn` awaits only these calls runs from
 * BEGIN to COMMIT without the event loop turning, and no other request's
 * statements can fall inside it. One that awaited other I/O is committed (rolling
 * back would undo whatever else ran on the connection meanwhile) and then
 * reported as an error.
 */
import { migrate, type Db } from '../store/sqlite/db.js'
import type { IncidentQuery, IncidentState, TimelineEntry } from './model.js'
import { ACTIVE_SQL, COLUMNS, fromRaw, toRaw, type IncidentRow, type RawIncident, type Silence } from './rows.js'
import { iso } from './policy.js'
import { MAX_AUTOMATIC_TIMELINE, type IncidentRepository, type WorstActive } from './repository.js'

const MIGRATIONS = [
  `
  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    machine_id TEXT NOT NULL,
    hostname TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    series TEXT,
    opened_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    flapping INTEGER NOT NULL DEFAULT 0,
    condition_open INTEGER NOT NULL DEFAULT 1,
    cleared_ms INTEGER,
    acknowledged_by TEXT,
    acknowledged_ms INTEGER,
    assignee TEXT,
    escalations INTEGER NOT NULL DEFAULT 0,
    escalated_ms INTEGER,
    resolved_ms INTEGER,
    resolved_by TEXT,
    resolution TEXT,
    article_id TEXT,
    verify_until_ms INTEGER,
    evidence_json TEXT NOT NULL,
    impact_ms INTEGER,
    suspected_change_json TEXT,
    parent_id TEXT,
    regressed_from_json TEXT,
    suggestions_json TEXT NOT NULL DEFAULT '[]',
    notified INTEGER NOT NULL DEFAULT 0
  );
  CREATE UNIQUE INDEX incidents_one_active ON incidents(machine_id, key) WHERE state IN ('open', 'acknowledged', 'regressed');
  CREATE INDEX incidents_machine_key ON incidents(machine_id, key, opened_ms);
  CREATE INDEX incidents_state ON incidents(state, opened_ms);
  CREATE INDEX incidents_opened ON incidents(opened_ms);
  CREATE INDEX incidents_parent ON incidents(parent_id) WHERE parent_id IS NOT NULL;
  CREATE TABLE incident_timeline (
    id INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    type TEXT NOT NULL,
    by TEXT,
    text TEXT
  );
  CREATE INDEX incident_timeline_incident ON incident_timeline(incident_id, id);
  CREATE TABLE incident_flaps (machine_id TEXT NOT NULL, key TEXT NOT NULL, at_ms INTEGER NOT NULL);
  CREATE INDEX incident_flaps_key ON incident_flaps(machine_id, key, at_ms);
  CREATE INDEX incident_flaps_at ON incident_flaps(at_ms);
  CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    machine_id TEXT,
    grp TEXT,
    key_pattern TEXT,
    from_ms INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    matched INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX silences_until ON silences(until_ms);
  `
]

export class SqliteIncidentStore implements IncidentRepository {
  readonly #db: Db
  #tail: Promise<unknown> = Promise.resolve()
  readonly #insert
  readonly #update
  readonly #get
  readonly #active
  readonly #timeline
  readonly #timelineCount
  readonly #addTimeline

  constructor (db: Db) {
    this.#db = db
    migrate(db, { name: 'incidents', sql: MIGRATIONS })
    this.#insert = db.prepare(`INSERT INTO incidents (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`)
    this.#update = db.prepare(`UPDATE incidents SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`)
    this.#get = db.prepare<[string], RawIncident>('SELECT * FROM incidents WHERE id = ?')
    this.#active = db.prepare<[string, string], RawIncident>(`SELECT * FROM incidents WHERE machine_id = ? AND key = ? AND ${ACTIVE_SQL}`)
    this.#timeline = db.prepare<[string], { at_ms: number, type: string, by: string | null, text: string | null }>('SELECT at_ms, type, by, text FROM incident_timeline WHERE incident_id = ? ORDER BY id')
    this.#timelineCount = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM incident_timeline WHERE incident_id = ?')
    this.#addTimeline = db.prepare('INSERT INTO incident_timeline (incident_id, at_ms, type, by, text) VALUES (?, ?, ?, ?, ?)')
  }

  /** One at a time: a call waits for the one before it to commit or roll back. */
  async transaction<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(async () => await this.#run(fn))
    this.#tail = run.catch(() => {})
    return await run
  }

  async #run<T> (fn: () => Promise<T>): Promise<T> {
    const db = this.#db
    db.exec('BEGIN IMMEDIATE')
    let turned = false
    const probe = setImmediate(() => { turned = true })
    try {
      const value = await fn()
      db.exec('COMMIT')
      if (turned) throw new Error('an incident transaction awaited I/O other than its store: committed, but other requests may have written inside it')
      return value
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw err
    } finally {
      clearImmediate(probe)
    }
  }

  async insert (i: IncidentRow): Promise<void> { this.#insert.run(toRaw(i)) }
  async save (i: IncidentRow): Promise<void> { this.#update.run(toRaw(i)) }

  async get (id: string): Promise<IncidentRow | undefined> {
    const r = this.#get.get(id)
    return r === undefined ? undefined : fromRaw(r)
  }

  /** The active (open, acknowledged or regressed) incident of (machine, key), if any. */
  async active (machineId: string, key: string): Promise<IncidentRow | undefined> {
    const r = this.#active.get(machineId, key)
    return r === undefined ? undefined : fromRaw(r)
  }

  /** Active incidents of one machine, the "too many incidents" one (`exceptKey`) left out. */
  async countActive (machineId: string, exceptKey: string): Promise<number> {
    return (this.#db.prepare(`SELECT count(*) AS n FROM incidents WHERE machine_id = ? AND key != ? AND ${ACTIVE_SQL}`).get(machineId, exceptKey) as { n: number }).n
  }

  /** The most recent incident of (machine, key) in one of `states`. */
  async latest (machineId: string, key: string, states: readonly IncidentState[]): Promise<IncidentRow | undefined> {
    const r = this.#db.prepare(`SELECT * FROM incidents WHERE machine_id = ? AND key = ? AND state IN (${states.map(() => '?').join(', ')}) ORDER BY opened_ms DESC LIMIT 1`)
      .get(machineId, key, ...states) as RawIncident | undefined
    return r === undefined ? undefined : fromRaw(r)
  }

  /**
   * Incidents whose timers may fire at `nowMs`: active ones with a pending clear,
   * fleet parents, unacknowledged ones that may still escalate, and resolved ones
   * whose verification watch is over.
   */
  async timed (nowMs: number, maxEscalations: number): Promise<IncidentRow[]> {
    return (this.#db.prepare(`SELECT * FROM incidents WHERE (${ACTIVE_SQL} AND (cleared_ms IS NOT NULL OR machine_id = '*'
      OR (state != 'acknowledged' AND condition_open = 1 AND escalations < ?)))
      OR (state = 'resolved' AND verify_until_ms <= ?)`).all(maxEscalations, nowMs) as RawIncident[]).map(fromRaw)
  }

  async children (parentId: string): Promise<IncidentRow[]> {
    return (this.#db.prepare('SELECT * FROM incidents WHERE parent_id = ? ORDER BY opened_ms').all(parentId) as RawIncident[]).map(fromRaw)
  }

  /** Active incidents of one key opened since `sinceMs`, on machines other than the fleet. */
  async activeWithKeySince (key: string, sinceMs: number): Promise<IncidentRow[]> {
    return (this.#db.prepare(`SELECT * FROM incidents WHERE key = ? AND ${ACTIVE_SQL} AND opened_ms >= ? AND machine_id != '*'`).all(key, sinceMs) as RawIncident[]).map(fromRaw)
  }

  /** Worst active incident of a machine (severity, then newest). */
  async worstActive (machineId: string): Promise<IncidentRow | undefined> {
    const r = this.#db.prepare(`SELECT * FROM incidents WHERE machine_id = ? AND ${ACTIVE_SQL}
      ORDER BY CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END DESC, opened_ms DESC LIMIT 1`).get(machineId) as RawIncident | undefined
    return r === undefined ? undefined : fromRaw(r)
  }

  /** The worst active incident of every machine that has one, in one query (for the fleet list). */
  async worstActiveAll (): Promise<Map<string, WorstActive>> {
    const rows = this.#db.prepare(`SELECT machine_id, severity, title, id FROM incidents WHERE ${ACTIVE_SQL}
      ORDER BY machine_id, CASE severity WHEN 'critical' THEN 2 WHEN 'warning' THEN 1 ELSE 0 END DESC, opened_ms DESC`).all() as Array<{ machine_id: string, severity: IncidentRow['severity'], title: string, id: string }>
    const out = new Map<string, WorstActive>()
    for (const r of rows) if (!out.has(r.machine_id)) out.set(r.machine_id, { severity: r.severity, title: r.title, id: r.id })
    return out
  }

  async list (q: IncidentQuery): Promise<{ total: number, items: IncidentRow[] }> {
    const where: string[] = []
    const args: unknown[] = []
    if (q.state === 'active') where.push(ACTIVE_SQL)
    else if (q.state !== undefined) { where.push('state = ?'); args.push(q.state) }
    if (q.machineId !== undefined) { where.push('machine_id = ?'); args.push(q.machineId) }
    if (q.severity !== undefined) { where.push('severity = ?'); args.push(q.severity) }
    if (q.kind !== undefined) { where.push('kind = ?'); args.push(q.kind) }
    if (q.q !== undefined && q.q.trim() !== '') {
      const like = '%' + q.q.trim().toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%'
      where.push("(lower(title) LIKE ? ESCAPE '\\' OR lower(hostname) LIKE ? ESCAPE '\\' OR lower(key) LIKE ? ESCAPE '\\' OR id = ?)")
      args.push(like, like, like, q.q.trim())
    }
    const w = where.length === 0 ? '' : 'WHERE ' + where.join(' AND ')
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM incidents ${w}`).get(...args) as { n: number }).n
    const items = (this.#db.prepare(`SELECT * FROM incidents ${w} ORDER BY opened_ms DESC, id LIMIT ? OFFSET ?`)
      .all(...args, q.limit ?? 50, q.offset ?? 0) as RawIncident[]).map(fromRaw)
    return { total, items }
  }

  /** Appends to the timeline; automatic entries (no `by`) stop at MAX_AUTOMATIC_TIMELINE. */
  async addTimeline (id: string, atMs: number, type: string, opts: { by?: string, text?: string } = {}): Promise<void> {
    if (opts.by === undefined && (this.#timelineCount.get(id)?.n ?? 0) >= MAX_AUTOMATIC_TIMELINE) return
    this.#addTimeline.run(id, atMs, type, opts.by ?? null, opts.text ?? null)
  }

  async timeline (id: string): Promise<TimelineEntry[]> {
    return this.#timeline.all(id).map((r) => {
      const e: TimelineEntry = { at: iso(r.at_ms), type: r.type }
      if (r.by !== null) e.by = r.by
      if (r.text !== null) e.text = r.text
      return e
    })
  }

  /* ---- flap history ---- */

  async recordOpen (machineId: string, key: string, atMs: number): Promise<void> {
    this.#db.prepare('INSERT INTO incident_flaps (machine_id, key, at_ms) VALUES (?, ?, ?)').run(machineId, key, atMs)
  }

  async opensSince (machineId: string, key: string, sinceMs: number): Promise<number> {
    return (this.#db.prepare('SELECT count(*) AS n FROM incident_flaps WHERE machine_id = ? AND key = ? AND at_ms >= ?').get(machineId, key, sinceMs) as { n: number }).n
  }

  async pruneOpens (beforeMs: number): Promise<void> {
    this.#db.prepare('DELETE FROM incident_flaps WHERE at_ms < ?').run(beforeMs)
  }

  /* ---- silences ---- */

  async insertSilence (s: Silence): Promise<void> {
    this.#db.prepare('INSERT INTO silences (id, machine_id, grp, key_pattern, from_ms, until_ms, reason, created_by, created_ms, matched) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)')
      .run(s.id, s.machineId ?? null, s.group ?? null, s.keyPattern ?? null, s.fromMs, s.untilMs, s.reason, s.createdBy, s.createdMs)
  }

  async deleteSilence (id: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM silences WHERE id = ?').run(id).changes > 0
  }

  /** Silences not yet expired at `nowMs` (or all when `nowMs` is undefined). */
  async silences (nowMs?: number): Promise<Silence[]> {
    const rows = (nowMs === undefined
      ? this.#db.prepare('SELECT * FROM silences ORDER BY from_ms').all()
      : this.#db.prepare('SELECT * FROM silences WHERE until_ms > ? ORDER BY from_ms').all(nowMs)) as Array<{
      id: string, machine_id: string | null, grp: string | null, key_pattern: string | null, from_ms: number, until_ms: number,
      reason: string, created_by: string, created_ms: number, matched: number
    }>
    return rows.map((r) => ({
      id: r.id,
      ...(r.machine_id !== null ? { machineId: r.machine_id } : {}),
      ...(r.grp !== null ? { group: r.grp } : {}),
      ...(r.key_pattern !== null ? { keyPattern: r.key_pattern } : {}),
      fromMs: r.from_ms,
      untilMs: r.until_ms,
      reason: r.reason,
      createdBy: r.created_by,
      createdMs: r.created_ms,
      matched: r.matched
    }))
  }

  async countSilenceMatch (id: string): Promise<void> {
    this.#db.prepare('UPDATE silences SET matched = matched + 1 WHERE id = ?').run(id)
  }

  /** Silences expired more than `beforeMs` ago are dropped. */
  async pruneSilences (beforeMs: number): Promise<void> {
    this.#db.prepare('DELETE FROM silences WHERE until_ms < ?').run(beforeMs)
  }
}
