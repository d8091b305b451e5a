/**
 * Fan-out of live events to dashboard WebSockets. Events are batched (one frame
 * per client every `flushMs`) so a busy fleet costs a few renders per second, not
 * one per report. A client that cannot keep up is disconnected (it reconnects and
 * reloads state) rather than letting its queue grow without bound.
 *
 * Isolation: every event is serialised once, when published, from an object the
 * collector built (routes.ts); an event that cannot be serialised is dropped alone,
 * and a client whose send fails is dropped alone. Nothing here throws into a timer.
 *
 * Budgets: sockets per principal (user, or token without a user) and in total, and
 * bytes buffered per socket (a consumer that does not read is cut off, not buffered).
 * The buffer is checked before every frame, and a frame never carries more than
 * LIVE_FRAME_BYTES of events (one is sent as soon as a client's queue reaches it,
 * without waiting for the timer): so what the collector holds for a socket stays
 * under the bound + one frame + one event, however fast its machines publish. (The
 * check once per timer let one 250 ms frame of a busy machine pile up: 4.8 MB were
 * held for a socket with a 1 MiB bound.)
 */
import type { WebSocket } from 'ws'
import type { LiveEvent } from '../ingest/events.js'

export interface LiveClient {
  socket: WebSocket
  /** machine ids whose full reports this client wants; summaries go to everyone */
  detail: Set<string>
  /** serialised events waiting for the next flush */
  queue: string[]
  /** characters in `queue` */
  queuedBytes: number
  principal: string
}

export interface LiveHubOptions {
  flushMs?: number
  /** events queued per client before it is dropped as too slow */
  maxQueue?: number
  /** bytes buffered in the socket before the client is dropped as too slow */
  maxBufferedBytes?: number
  /** sockets one principal may hold */
  maxPerPrincipal?: number
  /** sockets in total */
  maxClients?: number
  /** called when an event or a client fails (never throws into the caller) */
  onError?: (what: string, err: unknown) => void
  /** called when a client is cut off for a budget (too slow), with what it had unsent */
  onDrop?: (reason: string, info: { principal: string, bufferedBytes: number }) => void
}

/** Close code of a live socket refused for a budget (over the per-user or total cap). */
export const LIVE_LIMIT_CLOSE = 4429
/** Events (characters of JSON) that make a client's frame go out at once rather than at the next tick. */
export const LIVE_FRAME_BYTES = 256 * 1024

export class LiveHub {
  readonly #clients = new Set<LiveClient>()
  readonly #byPrincipal = new Map<string, number>()
  readonly #flushMs: number
  readonly #maxQueue: number
  readonly #maxBuffered: number
  readonly #maxPerPrincipal: number
  readonly #maxClients: number
  readonly #onError: (what: string, err: unknown) => void
  readonly #onDrop: NonNullable<LiveHubOptions['onDrop']>
  #timer: NodeJS.Timeout | undefined
  /** events dropped because they could not be serialised, and clients dropped because a send failed */
  failures = 0

  constructor (opts: LiveHubOptions = {}) {
    this.#flushMs = opts.flushMs ?? 250
    this.#maxQueue = opts.maxQueue ?? 20_000
    this.#maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024
    this.#maxPerPrincipal = opts.maxPerPrincipal ?? 8
    this.#maxClients = opts.maxClients ?? 500
    this.#onError = opts.onError ?? (() => {})
    this.#onDrop = opts.onDrop ?? (() => {})
  }

  get size (): number { return this.#clients.size }

  /** Why a new socket of this principal would be refused, or undefined if it fits the budgets. */
  refusal (principal: string): string | undefined {
    if (this.#clients.size >= this.#maxClients) return `the collector holds its maximum of ${this.#maxClients} live sockets`
    if ((this.#byPrincipal.get(principal) ?? 0) >= this.#maxPerPrincipal) return `this user holds its maximum of ${this.#maxPerPrincipal} live sockets`
    return undefined
  }

  /** Registers a socket, or returns the reason it is refused (the caller closes it). */
  add (socket: WebSocket, principal = 'anonymous'): LiveClient | string {
    const refused = this.refusal(principal)
    if (refused !== undefined) return refused
    const client: LiveClient = { socket, detail: new Set(), queue: [], queuedBytes: 0, principal }
    this.#clients.add(client)
    this.#byPrincipal.set(principal, (this.#byPrincipal.get(principal) ?? 0) + 1)
    socket.on('close', () => { this.#forget(client) })
    return client
  }

  /** Queues an event for every client; `detailOf` restricts it to clients watching that machine. */
  publish (event: LiveEvent, opts: { detailOf?: string } = {}): void {
    if (this.#clients.size === 0) return
    let text: string | undefined
    for (const c of this.#clients) {
      if (opts.detailOf !== undefined && !c.detail.has(opts.detailOf) && !c.detail.has('*')) continue
      if (c.queue.length >= this.#maxQueue) {
        this.#drop(c, 'too slow: live queue full')
        this.#safe(() => { this.#onDrop('too slow: live queue full', { principal: c.principal, bufferedBytes: c.socket.bufferedAmount }) })
        continue
      }
      if (text === undefined) {
        try {
          text = JSON.stringify(event)
        } catch (err) {
          // This event only: the others, and the process, carry on.
          this.failures++
          this.#safe(() => { this.#onError('live event not serialisable; dropped', err) })
          return
        }
      }
      c.queue.push(text)
      c.queuedBytes += text.length
      if (c.queuedBytes >= LIVE_FRAME_BYTES) this.#send(c)
    }
    this.#timer ??= setTimeout(() => { this.#safe(() => { this.flush() }) }, this.#flushMs)
  }

  /** Sends every queued batch now. */
  flush (): void {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined }
    for (const c of this.#clients) {
      if (c.queue.length > 0) this.#send(c)
    }
  }

  /** One client's queued events as one frame, unless it has more than the bound unsent already. */
  #send (c: LiveClient): void {
    try {
      const buffered = c.socket.bufferedAmount
      if (buffered > this.#maxBuffered) {
        // Not reading: cut it off now (a close handshake would wait behind the buffer).
        this.#drop(c, 'too slow: socket buffer full', true)
        this.#safe(() => { this.#onDrop('too slow: socket buffer full', { principal: c.principal, bufferedBytes: buffered }) })
        return
      }
      const frame = '{"type":"batch","sentAt":' + JSON.stringify(new Date().toISOString()) + ',"events":[' + c.queue.join(',') + ']}'
      c.queue = []
      c.queuedBytes = 0
      c.socket.send(frame, (err) => { if (err != null) this.#drop(c, 'send failed', true) })
    } catch (err) {
      this.failures++
      this.#safe(() => { this.#onError('live send failed; client dropped', err) })
      this.#drop(c, 'send failed', true)
    }
  }

  #forget (c: LiveClient): void {
    if (!this.#clients.delete(c)) return
    const n = (this.#byPrincipal.get(c.principal) ?? 1) - 1
    if (n <= 0) this.#byPrincipal.delete(c.principal)
    else this.#byPrincipal.set(c.principal, n)
  }

  #drop (c: LiveClient, reason: string, terminate = false): void {
    this.#forget(c)
    c.queue = []
    c.queuedBytes = 0
    this.#safe(() => { if (terminate) c.socket.terminate(); else c.socket.close(1013, reason) })
  }

  #safe (fn: () => void): void {
    try { fn() } catch { /* one client's or one event's failure stays there */ }
  }

  close (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    for (const c of this.#clients) this.#safe(() => { c.socket.close(1001, 'collector stopping') })
    this.#clients.clear()
    this.#byPrincipal.clear()
  }
}
