/**
 * Shipping: send the spool oldest-first in batches and remove reports only
 * when the collector acknowledges them, with the agent's retry policy around
 * the sender (as undici keeps retry beside the dispatcher, not in its callers):
 *
 * - unreachable: exponential backoff with jitter (agent/backoff.ts);
 * - busy (429, 503): the collector's Retry-After, capped at an hour, else backoff;
 * - too large: halve the batch; a single report that is still too large is dropped and counted;
 * - rejected for good (validation, seq conflict, time window): drop that report, counted, send the rest;
 * - pending approval: keep everything, ask again each collection;
 * - token refused (revoked, unknown): send nothing more, keep the spool, check once an hour;
 * - a rotation asked by the collector: get the new token, persist it, then use it.
 *
 * A backlog left after a send is retried between collections as soon as the
 * policy allows; nothing is armed while the spool is empty.
 */
import type { AgentRotateResponse, BatchAck, Report } from '../protocol/index.js'
import type { AgentLogger } from './log.js'
import type { Spool } from './spool.js'
import type { AgentState, StateKeeper } from './state.js'
import { SendError } from './transport.js'
import { backoffMs, retryAfterMs } from './backoff.js'

/** Reports in one batch at most, and its size: under the collector's 1 MiB body limit. */
export const MAX_BATCH = 100
export const MAX_BATCH_BYTES = 900 * 1024

/** A machine whose token the collector refused checks once this often whether an admin reinstated it. */
export const REFUSED_RECHECK_MS = 3_600_000

/** What the shipper needs of the transport. */
export interface Sender {
  send: (reports: Report[]) => Promise<BatchAck>
  rotate: () => Promise<AgentRotateResponse>
  setToken: (token: string) => void
  readonly rotationDue: boolean
  close: () => void
}

export interface ShipperOptions {
  spool: Pick<Spool, 'count' | 'oldest' | 'ack'>
  sender: Sender
  /** holds the enrolled state (`current` is set) */
  state: StateKeeper
  log: AgentLogger
  now: () => number
  /** the collection cadence: a machine pending approval asks again at half of it */
  intervalSec: number
  random?: () => number
}

/** The report a refusal names by its path (`/reports/N/...`), if any. */
function reportIndex (p: string | undefined): number | undefined {
  const m = /^\/reports\/(\d+)(?:\/|$)/.exec(p ?? '')
  return m === null ? undefined : Number(m[1])
}

export class Shipper {
  readonly #o: ShipperOptions
  #stopped = false
  #flushing: Promise<void> | undefined
  #attempt = 0
  #retryAt = 0
  #batchLimit = MAX_BATCH
  #retryTimer: NodeJS.Timeout | undefined
  #pendingLogged = false

  constructor (opts: ShipperOptions) {
    this.#o = opts
  }

  get #state (): AgentState { return this.#o.state.current! }

  /** True once the policy allows another send (a backoff or Retry-After has run out). */
  retryDue (): boolean {
    return this.#o.now() >= this.#retryAt
  }

  /** Ships the spool now; resolves when it is empty, or a send failed (then a retry is armed). Never rejects. */
  flush (): Promise<void> {
    this.#flushing ??= this.#drain().catch((err: unknown) => {
      this.#o.log.error({ err }, 'sending failed')
    }).finally(() => { this.#flushing = undefined; this.#armRetry() })
    return this.#flushing
  }

  /** Stops retrying at once; resolves when the send in flight is over and the sender closed. */
  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    await this.#flushing
    this.#o.sender.close()
  }

  async #drain (): Promise<void> {
    const { spool, sender, log } = this.#o
    while (!this.#stopped && spool.count > 0) {
      if (this.#o.now() < this.#retryAt) return
      if (sender.rotationDue) await this.#rotateToken()
      const state = this.#state
      const batch = spool.oldest(state.refused !== undefined ? 1 : this.#batchLimit, MAX_BATCH_BYTES)
      if (batch.length === 0) return
      try {
        const ack = await sender.send(batch)
        if (state.refused !== undefined || state.pending === true) {
          log.info({ agentId: state.agentId }, state.refused !== undefined ? 'the collector accepts this agent again (reinstated by an admin)' : 'this machine was approved by an admin; sending its spool')
          state.refused = undefined
          state.pending = undefined
          this.#pendingLogged = false
          this.#o.state.save()
        }
        const acked = new Set([...ack.stored, ...ack.duplicates])
        spool.ack([...acked])
        for (const r of batch) {
          if (acked.has(r.seq) && r.inventory?.apps !== undefined && r.inventory.hash !== state.inventoryHash) {
            state.inventoryHash = r.inventory.hash
            this.#o.state.save()
          }
        }
        if (ack.stored.length + ack.duplicates.length < batch.length) {
          log.warn({ sent: batch.length, acked: ack.stored.length + ack.duplicates.length }, 'collector acknowledged part of a batch')
        }
        this.#attempt = 0
        this.#batchLimit = Math.min(MAX_BATCH, this.#batchLimit * 2)
      } catch (err) {
        if (!(err instanceof SendError)) throw err
        this.#onSendError(err, batch)
        return
      }
    }
  }

  /** The collector asked for a new token: get it, persist it, then use it (never the other way round). */
  async #rotateToken (): Promise<void> {
    try {
      const r = await this.#o.sender.rotate()
      this.#state.agentToken = r.agentToken
      this.#o.state.save()
      this.#o.sender.setToken(r.agentToken)
      this.#o.log.info({ previousTokenValidUntil: r.previousTokenValidUntil }, 'agent token rotated')
    } catch (err) {
      // Retried before the next send: the old token keeps working for the grace period.
      this.#o.log.warn({ err: (err as Error).message }, 'token rotation failed; will retry')
    }
  }

  #onSendError (err: SendError, batch: Report[]): void {
    const { log, spool, now } = this.#o
    const state = this.#state
    if (err.kind === 'unauthorized') {
      this.#refuse(err)
    } else if (err.kind === 'forbidden' && err.opts.code === 'VIGIE_ERR_AGENT_PENDING') {
      // Not an error in the report: this machine awaits an admin's approval. Keep everything; ask again next collection.
      if (state.pending !== true) { state.pending = true; this.#o.state.save() }
      this.#retryAt = now() + this.#o.intervalSec * 500
      if (!this.#pendingLogged) log.warn({ agentId: state.agentId, spooled: spool.count }, 'this machine awaits an admin\'s approval on the collector; reports are kept in the spool until then')
      this.#pendingLogged = true
    } else if (err.kind === 'busy') {
      // Retry-After wins (capped at an hour); without one, back off as for an outage.
      this.#retryAt = now() + (err.opts.retryAfterMs !== undefined ? retryAfterMs(err.opts.retryAfterMs) : backoffMs(this.#attempt++, this.#o.random))
      log.warn({ retryInMs: this.#retryAt - now(), err: err.message }, 'collector busy; honouring Retry-After')
    } else if (err.kind === 'too-large' && batch.length === 1) {
      // One report the collector will never take (e.g. a huge inventory): drop it rather than retry forever.
      log.error({ seq: batch[0].seq, err: err.message }, 'report too large for the collector; dropping it')
      spool.ack([batch[0].seq])
      this.#o.state.countDropped(1)
    } else if (err.kind === 'too-large') {
      this.#batchLimit = Math.max(1, Math.floor(batch.length / 2))
    } else if ((err.kind === 'rejected' || err.kind === 'forbidden') && batch.length > 1 && reportIndex(err.opts.path) === undefined) {
      // Refused for good, but the answer names no report (a body or frame too deep):
      // send one at a time, at once, so only the report at fault is dropped.
      this.#batchLimit = 1
    } else if (err.kind === 'rejected' || err.kind === 'forbidden') {
      // The collector will never accept this report; keep the rest moving.
      const bad = batch[Math.min(reportIndex(err.opts.path) ?? 0, batch.length - 1)]
      log.error({ seq: bad.seq, err: err.message }, 'collector rejected a report; dropping it')
      spool.ack([bad.seq])
      this.#o.state.countDropped(1)
    } else {
      this.#retryAt = now() + backoffMs(this.#attempt++, this.#o.random)
      log.warn({ err: err.message, retryInMs: this.#retryAt - now(), spooled: spool.count }, 'collector unreachable; will retry')
    }
  }

  /**
   * The collector refused the agent token (revoked by an admin, or unknown): say so,
   * send nothing more, keep the spool, never enroll again by itself. One check an
   * hour (a single report) notices an admin's reinstatement.
   */
  #refuse (err: SendError): void {
    const { log, now } = this.#o
    const state = this.#state
    const first = state.refused === undefined
    state.refused = { atMs: now(), ...(err.opts.code !== undefined ? { code: err.opts.code } : {}), message: err.message }
    this.#o.state.save()
    this.#o.sender.close()
    this.#retryAt = now() + REFUSED_RECHECK_MS
    log.error({ agentId: state.agentId, err: err.message, spooled: this.#o.spool.count, recheckInMs: REFUSED_RECHECK_MS },
      first
        ? 'the collector refused this agent (revoked by an admin, or its token is unknown): sending nothing, spool kept; an admin must reinstate it (POST /api/v1/admin/agents/:id/unrevoke)'
        : 'still refused by the collector; sending nothing')
  }

  /**
   * A backlog left after a send: retry as soon as the backoff allows (re-checking at least
   * every 5 s), between collections. Nothing is armed while the spool is empty, so an idle
   * agent wakes only to collect (a 250 ms poll cost it ~20 ms of CPU a minute).
   */
  #armRetry (): void {
    if (this.#stopped || this.#retryTimer !== undefined || this.#o.spool.count === 0) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      if (!this.#stopped) void this.flush()
    }, Math.max(250, Math.min(this.#state.refused !== undefined ? REFUSED_RECHECK_MS : 5000, this.#retryAt - this.#o.now())))
  }
}
