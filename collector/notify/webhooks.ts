/**
 * Webhooks: subscriptions (admin-managed) and a durable outbox in SQLite.
 *
 * An event is written to the outbox in the same transaction as the incident
 * change that caused it, one row per subscribed webhook, with its exact body;
 * a delivery loop POSTs rows in order per webhook (HMAC-signed, with a timeout),
 * retries with exponential backoff, and marks a row delivered only after a 2xx.
 * So a collector restart loses nothing and a receiver that was down gets every
 * event when it is back, each with the same `Idempotency-Key` (the event id) on
 * every attempt. Delivery is at-least-once; receivers dedup on the key.
 */
import { randomBytes } from 'node:crypto'
import { migrate, type Db } from '../store/sqlite/db.js'
import { FAIR_MIGRATIONS, MIGRATIONS } from './webhook-tables.js'
import { newId } from '../core/secrets.js'
import { VigieError } from '../core/errors.js'
import type { Incident } from '../incidents/model.js'
import { buildPayload, WEBHOOK_EVENTS, type WebhookEventType } from './payload.js'
import { redactWebhookUrl, TargetGuard, TargetRefused, type Resolver } from './target-guard.js'
import { DELIVERY_ERRORS, postDelivery } from './delivery.js'

export { DELIVERY_ERRORS, signBody } from './delivery.js'

/** Longest wait between two attempts. */
const MAX_BACKOFF_MS = 3_600_000
/** An event not delivered after this long is given up (state 'dead'). */
const MAX_AGE_MS = 3 * 86_400_000
/** Delivered and dead rows are kept this long for the deliveries API. */
const KEEP_DONE_MS = 7 * 86_400_000

export interface Webhook {
  id: string
  url: string
  events: WebhookEventType[]
  description: string
  createdAt: string
  createdBy: string
}

export interface Delivery {
  id: number
  eventId: string
  type: string
  state: 'pending' | 'delivered' | 'dead'
  attempts: number
  createdAt: string
  nextAttemptAt?: string
  lastStatus?: number
  lastError?: string
  doneAt?: string
}

interface RawRow {
  id: number, webhook_id: string, event_id: string, event_type: string, body: string, created_ms: number, attempts: number,
  next_ms: number, state: string, last_status: number | null, last_error: string | null, done_ms: number | null
}

export interface NotifierOptions {
  now?: () => number
  /** timeout of one POST, ms */
  timeoutMs?: number
  /** first retry delay, ms; doubles per attempt up to an hour */
  retryMs?: number
  /** pending deliveries kept at most; the oldest are dropped beyond */
  maxPending?: number
  log?: { warn: (obj: object, msg: string) => void, info: (obj: object, msg: string) => void }
  userAgent?: string
  /** VIGIE_WEBHOOK_ALLOW entries: CIDRs, addresses or host names that may be targets despite being loopback/private/… */
  allow?: readonly string[]
  /** resolves target names (default: the system resolver); tests inject one that sends nothing */
  resolve?: Resolver
}

export class WebhookNotifier {
  readonly #db: Db
  readonly #now: () => number
  readonly #timeoutMs: number
  readonly #retryMs: number
  readonly #maxPending: number
  readonly #log: NonNullable<NotifierOptions['log']>
  readonly #userAgent: string
  readonly #guard: TargetGuard
  #running: Promise<void> | undefined
  #again = false
  #closed = false
  #kickTimer: NodeJS.Immediate | undefined
  /** deliveries that got a 2xx, since start (for tests and /metrics) */
  delivered = 0
  dropped = 0

  constructor (db: Db, opts: NotifierOptions = {}) {
    this.#db = db
    migrate(db, { name: 'webhooks', sql: MIGRATIONS })
    migrate(db, { name: 'webhook_outbox_fair', sql: FAIR_MIGRATIONS })
    this.#now = opts.now ?? Date.now
    this.#timeoutMs = opts.timeoutMs ?? 10_000
    this.#retryMs = opts.retryMs ?? 5000
    this.#maxPending = opts.maxPending ?? 10_000
    this.#log = opts.log ?? { warn: () => {}, info: () => {} }
    this.#userAgent = opts.userAgent ?? 'vigie-collector/1'
    this.#guard = new TargetGuard({ allow: opts.allow, resolve: opts.resolve })
  }

  /**
   * Refuses (VIGIE_ERR_WEBHOOK_TARGET) a URL whose host is, or resolves to, a
   * loopback, private, link-local, metadata… address not allow-listed. The
   * routes call it before create(); delivery checks again on every attempt.
   */
  async checkTarget (url: string): Promise<void> {
    const u = parseTarget(url)
    try { await this.#guard.resolveChecked(u) } catch (err) {
      if (err instanceof TargetRefused) throw new VigieError('VIGIE_ERR_WEBHOOK_TARGET', `url: ${err.reason}`, { path: '/url' })
      throw err
    }
  }

  /* ---- subscriptions ---- */

  create (opts: { url: string, secret?: string, events?: WebhookEventType[], description?: string }, by: string): Webhook & { secret: string } {
    const u = parseTarget(opts.url)
    try { this.#guard.checkLiteral(u) } catch (err) {
      if (err instanceof TargetRefused) throw new VigieError('VIGIE_ERR_WEBHOOK_TARGET', `url: ${err.reason}`, { path: '/url' })
      throw err
    }
    const id = newId('wh')
    const secret = opts.secret ?? randomBytes(32).toString('base64url')
    const events = opts.events === undefined || opts.events.length === 0 ? [...WEBHOOK_EVENTS] : [...new Set(opts.events)]
    this.#db.prepare('INSERT INTO webhooks (id, url, secret, events_json, description, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, u.toString(), secret, JSON.stringify(events), opts.description ?? '', this.#now(), by)
    return { ...this.#require(id), secret }
  }

  list (): Webhook[] {
    return (this.#db.prepare('SELECT * FROM webhooks ORDER BY created_ms, id').all() as Array<Record<string, unknown>>).map(toWebhook)
  }

  #require (id: string): Webhook {
    const r = this.#db.prepare('SELECT * FROM webhooks WHERE id = ?').get(id) as Record<string, unknown> | undefined
    if (r === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no webhook ${id}`)
    return toWebhook(r)
  }

  get (id: string): Webhook { return this.#require(id) }

  /** Removes the subscription and whatever it still had to deliver. */
  delete (id: string): void {
    this.#require(id)
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM webhook_outbox WHERE webhook_id = ?').run(id)
      this.#db.prepare('DELETE FROM webhooks WHERE id = ?').run(id)
    })()
  }

  deliveries (id: string, limit = 100): Delivery[] {
    this.#require(id)
    const rows = this.#db.prepare('SELECT * FROM webhook_outbox WHERE webhook_id = ? ORDER BY id DESC LIMIT ?').all(id, limit) as RawRow[]
    return rows.map((r) => {
      const d: Delivery = { id: r.id, eventId: r.event_id, type: r.event_type, state: r.state as Delivery['state'], attempts: r.attempts, createdAt: new Date(r.created_ms).toISOString() }
      if (r.state === 'pending') d.nextAttemptAt = new Date(r.next_ms).toISOString()
      if (r.last_status !== null) d.lastStatus = r.last_status
      if (r.last_error !== null) d.lastError = r.last_error
      if (r.done_ms !== null) d.doneAt = new Date(r.done_ms).toISOString()
      return d
    })
  }

  /** Deliveries waiting (all webhooks). */
  pending (): number {
    return (this.#db.prepare("SELECT count(*) AS n FROM webhook_outbox WHERE state = 'pending'").get() as { n: number }).n
  }

  /* ---- the outbox ---- */

  /**
   * Queues one event for every webhook subscribed to its type. Synchronous, so
   * it commits with the caller's transaction. Returns the event id, or undefined
   * when nobody is subscribed.
   */
  enqueue (type: WebhookEventType, incident: Incident, change?: string, text?: string): string | undefined {
    const hooks = this.list().filter((w) => w.events.includes(type))
    if (hooks.length === 0) return undefined
    const now = this.#now()
    const eventId = newId('evt')
    const body = JSON.stringify(buildPayload(eventId, type, incident, now, change, text))
    const insert = this.#db.prepare('INSERT INTO webhook_outbox (webhook_id, event_id, event_type, body, created_ms, next_ms, machine_id) VALUES (?, ?, ?, ?, ?, ?, ?)')
    this.#db.transaction(() => {
      for (const w of hooks) insert.run(w.id, eventId, type, body, now, now, incident.machineId)
      this.#bound()
    })()
    this.#scheduleKick()
    return eventId
  }

  /**
   * Keeps the outbox bounded, fairly: beyond the limit, the pending rows given up
   * are the oldest of the machine with the most rows waiting (ties: the machine
   * with the oldest row), taken down towards the next heaviest. A flood from one
   * machine therefore evicts its own rows, never another machine's alert.
   */
  #bound (): void {
    let over = this.pending() - this.#maxPending
    if (over <= 0) return
    const heaviest = this.#db.prepare(`SELECT machine_id, count(*) AS n FROM webhook_outbox WHERE state = 'pending'
      GROUP BY machine_id ORDER BY n DESC, min(id) LIMIT 2`)
    const drop = this.#db.prepare(`UPDATE webhook_outbox SET state = 'dead', last_error = 'dropped: outbox full', done_ms = ?
      WHERE id IN (SELECT id FROM webhook_outbox WHERE state = 'pending' AND machine_id = ? ORDER BY id LIMIT ?)`)
    let dropped = 0
    const machines = new Set<string>()
    while (over > 0) {
      const [top, next] = heaviest.all() as Array<{ machine_id: string, n: number }>
      if (top === undefined) break
      const take = Math.min(over, Math.max(1, top.n - (next?.n ?? 0)))
      const n = drop.run(this.#now(), top.machine_id, take).changes
      if (n === 0) break
      over -= n
      dropped += n
      machines.add(top.machine_id)
    }
    this.dropped += dropped
    this.#log.warn({ dropped, max: this.#maxPending, machines: [...machines].slice(0, 10) }, 'webhook outbox full: oldest deliveries of the machine with the most waiting dropped')
  }

  #scheduleKick (): void {
    if (this.#closed || this.#kickTimer !== undefined) return
    // after the caller's transaction has committed
    this.#kickTimer = setImmediate(() => { this.#kickTimer = undefined; void this.run() })
  }

  /**
   * Delivers what is due, oldest first per webhook (a failing row holds back
   * that webhook's later rows, so a ticket never gets "resolved" before
   * "opened"). Concurrent calls coalesce. Never throws.
   */
  run (): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#running !== undefined) { this.#again = true; return this.#running }
    this.#running = (async () => {
      try {
        do {
          this.#again = false
          const hooks = this.#db.prepare("SELECT DISTINCT webhook_id FROM webhook_outbox WHERE state = 'pending'").all() as Array<{ webhook_id: string }>
          await Promise.all(hooks.map(async (h) => { await this.#drain(h.webhook_id) }))
        } while (this.#again && !this.#closed)
        this.#prune()
      } catch (err) {
        this.#log.warn({ err }, 'webhook delivery loop failed')
      } finally {
        this.#running = undefined
      }
    })()
    return this.#running
  }

  async #drain (webhookId: string): Promise<void> {
    const next = this.#db.prepare("SELECT * FROM webhook_outbox WHERE webhook_id = ? AND state = 'pending' ORDER BY id LIMIT 1")
    const hook = this.#db.prepare('SELECT url, secret FROM webhooks WHERE id = ?').get(webhookId) as { url: string, secret: string } | undefined
    if (hook === undefined) return
    for (let n = 0; n < 1000 && !this.#closed; n++) {
      const row = next.get(webhookId) as RawRow | undefined
      if (row === undefined || row.next_ms > this.#now()) return
      const ok = await this.#attempt(hook, row)
      if (!ok) return
    }
  }

  async #attempt (hook: { url: string, secret: string }, row: RawRow): Promise<boolean> {
    // Timestamps recorded below come from the attempt's start, so the stored
    // times do not tell how long a connection took to fail.
    const started = this.#now()
    const ts = String(Math.floor(started / 1000))
    let status: number | null = null
    let error: string | null = null
    let detail: string | undefined
    try {
      status = await postDelivery(this.#guard, { timeoutMs: this.#timeoutMs, userAgent: this.#userAgent }, hook, row, ts)
      if (status >= 300 && status < 400) error = DELIVERY_ERRORS.redirect(status)
      else if (status < 200 || status >= 300) error = DELIVERY_ERRORS.status(status)
    } catch (err) {
      if (err instanceof TargetRefused) error = `refused: ${err.reason}`
      else {
        error = DELIVERY_ERRORS.noResponse
        detail = (err as NodeJS.ErrnoException).code ?? 'error'
      }
    }
    if (detail !== undefined) this.#log.info({ webhook: row.webhook_id, url: redactWebhookUrl(hook.url), detail }, 'webhook connection failed')
    const now = started
    const attempts = row.attempts + 1
    if (error === null) {
      this.#db.prepare("UPDATE webhook_outbox SET state = 'delivered', attempts = ?, last_status = ?, last_error = NULL, done_ms = ? WHERE id = ?").run(attempts, status, now, row.id)
      this.delivered++
      return true
    }
    if (now - row.created_ms >= MAX_AGE_MS) {
      this.#db.prepare("UPDATE webhook_outbox SET state = 'dead', attempts = ?, last_status = ?, last_error = ?, done_ms = ? WHERE id = ?").run(attempts, status, error, now, row.id)
      this.#log.warn({ webhook: row.webhook_id, event: row.event_id, attempts, error }, 'webhook delivery given up')
      return true
    }
    const wait = Math.min(MAX_BACKOFF_MS, this.#retryMs * 2 ** Math.min(30, attempts - 1))
    this.#db.prepare('UPDATE webhook_outbox SET attempts = ?, last_status = ?, last_error = ?, next_ms = ? WHERE id = ?').run(attempts, status, error, now + wait, row.id)
    this.#log.info({ webhook: row.webhook_id, event: row.event_id, attempts, error, retryInMs: wait }, 'webhook delivery failed; will retry')
    return false
  }

  #prune (): void {
    this.#db.prepare('DELETE FROM webhook_outbox WHERE done_ms IS NOT NULL AND done_ms < ?').run(this.#now() - KEEP_DONE_MS)
  }

  /**
   * Stops the loop. Deliveries in flight finish (each is bounded by the
   * timeout), so a graceful restart neither loses nor repeats an event.
   */
  async close (): Promise<void> {
    if (this.#kickTimer !== undefined) { clearImmediate(this.#kickTimer); this.#kickTimer = undefined }
    this.#closed = true
    await this.#running
  }
}

function parseTarget (raw: string): URL {
  let u: URL
  try { u = new URL(raw) } catch { throw new VigieError('VIGIE_ERR_VALIDATION', 'url must be an absolute http(s) URL', { path: '/url' }) }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VigieError('VIGIE_ERR_VALIDATION', 'url must be http or https', { path: '/url' })
  return u
}

function toWebhook (r: Record<string, unknown>): Webhook {
  return {
    id: r.id as string,
    url: redactWebhookUrl(r.url as string),
    events: JSON.parse(r.events_json as string) as WebhookEventType[],
    description: r.description as string,
    createdAt: new Date(r.created_ms as number).toISOString(),
    createdBy: r.created_by as string
  }
}
