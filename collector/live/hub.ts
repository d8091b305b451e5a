/**
 * Fan-out of live events to dashboard WebSockets. Events are batched (one frame
 * per client every `flushMs`) so a busy fleet costs a few renders per second, not
 * one per report. A client that cannot keep up is disconnected (it reconnects and
 * reloads state) rather than letting its queue grow without bound.
 */
import type { WebSocket } from 'ws'
import type { LiveEvent } from '../events.js'

export interface LiveClient {
  socket: WebSocket
  /** machine ids whose full reports this client wants; summaries go to everyone */
  detail: Set<string>
  queue: LiveEvent[]
}

export interface LiveHubOptions {
  flushMs?: number
  /** events queued per client before it is dropped as too slow */
  maxQueue?: number
  /** bytes buffered in the socket before the client is dropped as too slow */
  maxBufferedBytes?: number
}

export class LiveHub {
  readonly #clients = new Set<LiveClient>()
  readonly #flushMs: number
  readonly #maxQueue: number
  readonly #maxBuffered: number
  #timer: NodeJS.Timeout | undefined

  constructor (opts: LiveHubOptions = {}) {
    this.#flushMs = opts.flushMs ?? 250
    this.#maxQueue = opts.maxQueue ?? 20_000
    this.#maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024
  }

  get size (): number { return this.#clients.size }

  add (socket: WebSocket): LiveClient {
    const client: LiveClient = { socket, detail: new Set(), queue: [] }
    this.#clients.add(client)
    socket.on('close', () => { this.#clients.delete(client) })
    return client
  }

  /** Queues an event for every client; `machineId` + `detailOnly` restricts it to clients watching that machine. */
  publish (event: LiveEvent, opts: { detailOf?: string } = {}): void {
    if (this.#clients.size === 0) return
    for (const c of this.#clients) {
      if (opts.detailOf !== undefined && !c.detail.has(opts.detailOf) && !c.detail.has('*')) continue
      if (c.queue.length >= this.#maxQueue) { this.#drop(c, 'too slow: live queue full'); continue }
      c.queue.push(event)
    }
    this.#timer ??= setTimeout(() => { this.flush() }, this.#flushMs)
  }

  /** Sends every queued batch now. */
  flush (): void {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined }
    for (const c of this.#clients) {
      if (c.queue.length === 0) continue
      if (c.socket.bufferedAmount > this.#maxBuffered) { this.#drop(c, 'too slow: socket buffer full'); continue }
      const frame = JSON.stringify({ type: 'batch', sentAt: new Date().toISOString(), events: c.queue })
      c.queue = []
      c.socket.send(frame)
    }
  }

  #drop (c: LiveClient, reason: string): void {
    this.#clients.delete(c)
    c.queue = []
    c.socket.close(1013, reason)
  }

  close (): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    for (const c of this.#clients) c.socket.close(1001, 'collector stopping')
    this.#clients.clear()
  }
}
