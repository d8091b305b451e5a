/**
 * Webhooks: subscriptions (admin-managed) and a durable outbox, kept by a
 * WebhookRepository (repository.ts; SQLite in sqlite-store.ts).
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
import type { OutboxRow, StoredWebhook, WebhookRepository } from './repository.js'
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
  readonly #store: WebhookRepository
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

  constructor (store: WebhookRepository, opts: NotifierOptions = {}) {
    this.#store = store
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

  async create (opts: { url: string, secret?: string, events?: WebhookEventType[], description?: string }, by: string): Promise<Webhook & { secret: string }> {
    const u = parseTarget(opts.url)
    try { this.#guard.checkLiteral(u) } catch (err) {
      if (err instanceof TargetRefused) throw new VigieError('VIGIE_ERR_WEBHOOK_TARGET', `url: ${err.reason}`, { path: '/url' })
      throw err
    }
    const id = newId('wh')
    const secret = opts.secret ?? randomBytes(32).toString('base64url')
    const events = opts.events === undefined || opts.events.length === 0 ? [...WEBHOOK_EVENTS] : [...new Set(opts.events)]
    const w: StoredWebhook = { id, url: u.toString(), secret, events, description: opts.description ?? '', createdMs: this.#now(), createdBy: by }
    await this.#store.insertHook(w)
    return { ...toWebhook(w), secret }
  }

  async list (): Promise<Webhook[]> { return (await this.#store.hooks()).map(toWebhook) }

  async #require (id: string): Promise<StoredWebhook> {
    const w = await this.#store.getHook(id)
    if (w === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no webhook ${id}`)
    return w
  }

  async get (id: string): Promise<Webhook> { return toWebhook(await this.#require(id)) }

  /** Removes the subscription and whatever it still had to deliver. */
  async delete (id: string): Promise<void> {
    if (!await this.#store.deleteHook(id)) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no webhook ${id}`)
  }

  async deliveries (id: string, limit = 100): Promise<Delivery[]> {
    await this.#require(id)
    return (await this.#store.deliveries(id, limit)).map((r) => {
      const d: Delivery = { id: r.id, eventId: r.eventId, type: r.type, state: r.state, attempts: r.attempts, createdAt: new Date(r.createdMs).toISOString() }
      if (r.state === 'pending') d.nextAttemptAt = new Date(r.nextMs).toISOString()
      if (r.lastStatus !== null) d.lastStatus = r.lastStatus
      if (r.lastError !== null) d.lastError = r.lastError
      if (r.doneMs !== null) d.doneAt = new Date(r.doneMs).toISOString()
      return d
    })
  }

  /** Deliveries waiting (all webhooks). */
  async pending (): Promise<number> { return await this.#store.pendingCount() }

  /* ---- the outbox ---- */

  /**
   * Queues one event for every webhook subscribed to its type. Called inside the
   * incident's transaction, whose store shares it, so it commits with the change.
   * Returns the event id, or undefined when nobody is subscribed.
   */
  async enqueue (type: WebhookEventType, incident: Incident, change?: string, text?: string): Promise<string | undefined> {
    const hooks = (await this.#store.hooks()).filter((w) => w.events.includes(type))
    if (hooks.length === 0) return undefined
    const now = this.#now()
    const eventId = newId('evt')
    const body = JSON.stringify(buildPayload(eventId, type, incident, now, change, text))
    await this.#store.enqueue(hooks.map(w => ({ webhookId: w.id, eventId, type, body, machineId: incident.machineId, createdMs: now })))
    await this.#bound()
    this.#scheduleKick()
    return eventId
  }

  /**
   * Keeps the outbox bounded, fairly: beyond the limit, the pending rows given up
   * are the oldest of the machine with the most rows waiting (ties: the machine
   * with the oldest row), taken down towards the next heaviest. A flood from one
   * machine therefore evicts its own rows, never another machine's alert.
   */
  async #bound (): Promise<void> {
    let over = await this.#store.pendingCount() - this.#maxPending
    if (over <= 0) return
    let dropped = 0
    const machines = new Set<string>()
    while (over > 0) {
      const [top, next] = await this.#store.heaviestPending(2)
      if (top === undefined) break
      const take = Math.min(over, Math.max(1, top.pending - (next?.pending ?? 0)))
      const n = await this.#store.dropOldestPending(top.machineId, take, this.#now(), 'dropped: outbox full')
      if (n === 0) break
      over -= n
      dropped += n
      machines.add(top.machineId)
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
          const hooks = await this.#store.webhooksWithPending()
          await Promise.all(hooks.map(async (h) => { await this.#drain(h) }))
        } while (this.#again && !this.#closed)
        await this.#store.pruneDone(this.#now() - KEEP_DONE_MS)
      } catch (err) {
        this.#log.warn({ err }, 'webhook delivery loop failed')
      } finally {
        this.#running = undefined
      }
    })()
    return this.#running
  }

  async #drain (webhookId: string): Promise<void> {
    const hook = await this.#store.getHook(webhookId)
    if (hook === undefined) return
    for (let n = 0; n < 1000 && !this.#closed; n++) {
      const row = await this.#store.nextPending(webhookId)
      if (row === undefined || row.nextMs > this.#now()) return
      const ok = await this.#attempt(hook, row)
      if (!ok) return
    }
  }

  async #attempt (hook: { url: string, secret: string }, row: OutboxRow): Promise<boolean> {
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
    if (detail !== undefined) this.#log.info({ webhook: row.webhookId, url: redactWebhookUrl(hook.url), detail }, 'webhook connection failed')
    const now = started
    const attempts = row.attempts + 1
    if (error === null) {
      await this.#store.recordAttempt(row.id, { state: 'delivered', attempts, status, error: null, atMs: now })
      this.delivered++
      return true
    }
    if (now - row.createdMs >= MAX_AGE_MS) {
      await this.#store.recordAttempt(row.id, { state: 'dead', attempts, status, error, atMs: now })
      this.#log.warn({ webhook: row.webhookId, event: row.eventId, attempts, error }, 'webhook delivery given up')
      return true
    }
    const wait = Math.min(MAX_BACKOFF_MS, this.#retryMs * 2 ** Math.min(30, attempts - 1))
    await this.#store.recordAttempt(row.id, { state: 'pending', attempts, status, error, nextMs: now + wait })
    this.#log.info({ webhook: row.webhookId, event: row.eventId, attempts, error, retryInMs: wait }, 'webhook delivery failed; will retry')
    return false
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

function toWebhook (w: StoredWebhook): Webhook {
  return { id: w.id, url: redactWebhookUrl(w.url), events: w.events, description: w.description, createdAt: new Date(w.createdMs).toISOString(), createdBy: w.createdBy }
}
