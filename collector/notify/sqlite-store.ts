/**
 * The webhooks' store (repository.ts) in the collector's SQLite database:
 * subscriptions and the durable outbox. Calls run synchronously and return a
 * settled promise, so `enqueue` inside an incident transaction commits with it.
 */
import type { Statement } from 'better-sqlite3'
import { migrate, type Db } from '../store/sqlite/db.js'
import type { WebhookEventType } from './payload.js'
import type { AttemptOutcome, NewOutboxRow, OutboxRow, OutboxState, StoredWebhook, WebhookRepository } from './repository.js'

const MIGRATIONS = [
  `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events_json TEXT NOT NULL,
    description TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL
  );
  CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_status INTEGER,
    last_error TEXT,
    done_ms INTEGER,
    UNIQUE (webhook_id, event_id)
  );
  CREATE INDEX webhook_outbox_pending ON webhook_outbox(state, webhook_id, id);
  CREATE INDEX webhook_outbox_done ON webhook_outbox(done_ms) WHERE done_ms IS NOT NULL;
  `
]

/**
 * Fair eviction (budgets): each outbox row names the machine whose incident it
 * announces, so a full outbox gives up rows of the machine with the most
 * waiting, never another machine's alert (webhooks.ts, #bound).
 */
const FAIR_MIGRATIONS = [
  `
  ALTER TABLE webhook_outbox ADD COLUMN machine_id TEXT NOT NULL DEFAULT '';
  CREATE INDEX webhook_outbox_machine ON webhook_outbox(state, machine_id, id);
  `
]

interface RawHook { id: string, url: string, secret: string, events_json: string, description: string, created_ms: number, created_by: string }
interface RawRow {
  id: number, webhook_id: string, event_id: string, event_type: string, body: string, machine_id: string, created_ms: number, attempts: number,
  next_ms: number, state: string, last_status: number | null, last_error: string | null, done_ms: number | null
}

const toHook = (r: RawHook): StoredWebhook => ({
  id: r.id, url: r.url, secret: r.secret, events: JSON.parse(r.events_json) as WebhookEventType[],
  description: r.description, createdMs: r.created_ms, createdBy: r.created_by
})
const toRow = (r: RawRow): OutboxRow => ({
  id: r.id, webhookId: r.webhook_id, eventId: r.event_id, type: r.event_type, body: r.body, machineId: r.machine_id,
  createdMs: r.created_ms, attempts: r.attempts, nextMs: r.next_ms, state: r.state as OutboxState,
  lastStatus: r.last_status, lastError: r.last_error, doneMs: r.done_ms
})

export class SqliteWebhookStore implements WebhookRepository {
  readonly #db: Db
  readonly #insertHook: Statement
  readonly #hooks: Statement<[], RawHook>
  readonly #getHook: Statement<[string], RawHook>
  readonly #deleteRows: Statement<[string]>
  readonly #deleteHookRow: Statement<[string]>
  readonly #insertRow: Statement
  readonly #deliveries: Statement<[string, number], RawRow>
  readonly #pending: Statement<[], { n: number }>
  readonly #withPending: Statement<[], { webhook_id: string }>
  readonly #next: Statement<[string], RawRow>
  readonly #done: Statement
  readonly #retry: Statement
  readonly #heaviest: Statement<[number], { machine_id: string, n: number }>
  readonly #drop: Statement<[number, string, string, number]>
  readonly #prune: Statement<[number]>

  constructor (db: Db) {
    migrate(db, { name: 'webhooks', sql: MIGRATIONS })
    migrate(db, { name: 'webhook_outbox_fair', sql: FAIR_MIGRATIONS })
    this.#db = db
    this.#insertHook = db.prepare('INSERT INTO webhooks (id, url, secret, events_json, description, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#hooks = db.prepare('SELECT * FROM webhooks ORDER BY created_ms, id')
    this.#getHook = db.prepare('SELECT * FROM webhooks WHERE id = ?')
    this.#deleteRows = db.prepare('DELETE FROM webhook_outbox WHERE webhook_id = ?')
    this.#deleteHookRow = db.prepare('DELETE FROM webhooks WHERE id = ?')
    this.#insertRow = db.prepare('INSERT INTO webhook_outbox (webhook_id, event_id, event_type, body, created_ms, next_ms, machine_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#deliveries = db.prepare('SELECT * FROM webhook_outbox WHERE webhook_id = ? ORDER BY id DESC LIMIT ?')
    this.#pending = db.prepare("SELECT count(*) AS n FROM webhook_outbox WHERE state = 'pending'")
    this.#withPending = db.prepare("SELECT DISTINCT webhook_id FROM webhook_outbox WHERE state = 'pending'")
    this.#next = db.prepare("SELECT * FROM webhook_outbox WHERE webhook_id = ? AND state = 'pending' ORDER BY id LIMIT 1")
    this.#done = db.prepare('UPDATE webhook_outbox SET state = ?, attempts = ?, last_status = ?, last_error = ?, done_ms = ? WHERE id = ?')
    this.#retry = db.prepare('UPDATE webhook_outbox SET attempts = ?, last_status = ?, last_error = ?, next_ms = ? WHERE id = ?')
    this.#heaviest = db.prepare(`SELECT machine_id, count(*) AS n FROM webhook_outbox WHERE state = 'pending'
      GROUP BY machine_id ORDER BY n DESC, min(id) LIMIT ?`)
    this.#drop = db.prepare(`UPDATE webhook_outbox SET state = 'dead', done_ms = ?, last_error = ?
      WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND machine_id = ? ORDER BY id LIMIT ?)`)
    this.#prune = db.prepare('DELETE FROM webhook_outbox WHERE done_ms IS NOT NULL AND done_ms < ?')
  }

  async insertHook (w: StoredWebhook): Promise<void> {
    this.#insertHook.run(w.id, w.url, w.secret, JSON.stringify(w.events), w.description, w.createdMs, w.createdBy)
  }

  async hooks (): Promise<StoredWebhook[]> { return this.#hooks.all().map(toHook) }

  async getHook (id: string): Promise<StoredWebhook | undefined> {
    const r = this.#getHook.get(id)
    return r === undefined ? undefined : toHook(r)
  }

  async deleteHook (id: string): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#deleteRows.run(id)
      return this.#deleteHookRow.run(id).changes > 0
    })()
  }

  async enqueue (rows: readonly NewOutboxRow[]): Promise<void> {
    this.#db.transaction(() => {
      for (const r of rows) this.#insertRow.run(r.webhookId, r.eventId, r.type, r.body, r.createdMs, r.createdMs, r.machineId)
    })()
  }

  async deliveries (webhookId: string, limit: number): Promise<OutboxRow[]> { return this.#deliveries.all(webhookId, limit).map(toRow) }
  async pendingCount (): Promise<number> { return this.#pending.get()?.n ?? 0 }
  async webhooksWithPending (): Promise<string[]> { return this.#withPending.all().map(r => r.webhook_id) }

  async nextPending (webhookId: string): Promise<OutboxRow | undefined> {
    const r = this.#next.get(webhookId)
    return r === undefined ? undefined : toRow(r)
  }

  async recordAttempt (id: number, o: AttemptOutcome): Promise<void> {
    if (o.state === 'pending') this.#retry.run(o.attempts, o.status, o.error, o.nextMs, id)
    else this.#done.run(o.state, o.attempts, o.status, o.error, o.atMs, id)
  }

  async heaviestPending (limit: number): Promise<Array<{ machineId: string, pending: number }>> {
    return this.#heaviest.all(limit).map(r => ({ machineId: r.machine_id, pending: r.n }))
  }

  async dropOldestPending (machineId: string, n: number, atMs: number, reason: string): Promise<number> {
    return this.#drop.run(atMs, reason, machineId, n).changes
  }

  async pruneDone (beforeMs: number): Promise<number> { return this.#prune.run(beforeMs).changes }
}
