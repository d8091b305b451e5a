/**
 * The one live WebSocket of this browser tab, shared by every view. It
 * reconnects by itself with exponential backoff (0.5 s doubling to 15 s, with
 * jitter), re-sends the machines being watched, and tells views to reload what
 * they show after a reconnect (events sent while away are lost).
 */
import { liveUrl } from './auth.js'
import type { LiveEvent } from './types.js'

export type LiveState = { kind: 'connecting' } | { kind: 'open' } | { kind: 'waiting', retryAtMs: number }

type EventHandler = (e: LiveEvent) => void
type StateHandler = (s: LiveState) => void

const BACKOFF_MIN_MS = 500
const BACKOFF_MAX_MS = 15_000

class LiveConnection {
  #ws: WebSocket | undefined
  #state: LiveState = { kind: 'connecting' }
  #attempt = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stopped = true
  #everOpened = false
  readonly #handlers = new Set<EventHandler>()
  readonly #stateHandlers = new Set<StateHandler>()
  readonly #resyncHandlers = new Set<() => void>()
  /** machine id → number of views watching it */
  readonly #watched = new Map<string, number>()
  /** frames received, for tests and diagnostics */
  frames = 0

  get state (): LiveState { return this.#state }

  start (): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#connect()
  }

  stop (): void {
    this.#stopped = true
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    const ws = this.#ws
    this.#ws = undefined
    ws?.close(1000, 'signed out')
    this.#everOpened = false
    this.#setState({ kind: 'connecting' })
  }

  /** Connects at once instead of waiting for the backoff. */
  retryNow (): void {
    if (this.#stopped || this.#state.kind !== 'waiting') return
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#connect()
  }

  #connect (): void {
    this.#setState({ kind: 'connecting' })
    let ws: WebSocket
    try {
      ws = new WebSocket(liveUrl())
    } catch {
      this.#scheduleRetry()
      return
    }
    this.#ws = ws
    ws.onopen = () => {
      if (this.#ws !== ws) return
      this.#attempt = 0
      this.#setState({ kind: 'open' })
      this.#sendWatch()
      if (this.#everOpened) for (const fn of this.#resyncHandlers) fn()
      this.#everOpened = true
    }
    ws.onmessage = (msg) => {
      if (this.#ws !== ws) return
      let frame: { type?: string, events?: LiveEvent[] }
      try { frame = JSON.parse(String(msg.data)) as typeof frame } catch { return }
      this.frames++
      if (frame.type !== 'batch' || !Array.isArray(frame.events)) return
      for (const e of frame.events) for (const fn of this.#handlers) {
        try { fn(e) } catch (err) { console.error('live handler failed', err) }
      }
    }
    ws.onclose = () => {
      if (this.#ws !== ws) return
      this.#ws = undefined
      if (!this.#stopped) this.#scheduleRetry()
    }
    ws.onerror = () => { /* onclose follows and schedules the retry */ }
  }

  #scheduleRetry (): void {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt)
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    this.#attempt++
    this.#setState({ kind: 'waiting', retryAtMs: Date.now() + delay })
    this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; this.#connect() }, delay)
  }

  #setState (s: LiveState): void {
    this.#state = s
    for (const fn of this.#stateHandlers) fn(s)
  }

  #sendWatch (): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return
    this.#ws.send(JSON.stringify({ type: 'watch', machines: [...this.#watched.keys()].slice(0, 1000) }))
  }

  /** Receives every live event; returns an unsubscribe function. */
  subscribe (fn: EventHandler): () => void {
    this.#handlers.add(fn)
    return () => { this.#handlers.delete(fn) }
  }

  onState (fn: StateHandler): () => void {
    this.#stateHandlers.add(fn)
    fn(this.#state)
    return () => { this.#stateHandlers.delete(fn) }
  }

  /** Called after a reconnect: reload what the view shows. */
  onResync (fn: () => void): () => void {
    this.#resyncHandlers.add(fn)
    return () => { this.#resyncHandlers.delete(fn) }
  }

  /** Asks for full reports of a machine while the returned function is not called. */
  watch (machineId: string): () => void {
    this.#watched.set(machineId, (this.#watched.get(machineId) ?? 0) + 1)
    this.#sendWatch()
    let done = false
    return () => {
      if (done) return
      done = true
      const n = (this.#watched.get(machineId) ?? 1) - 1
      if (n <= 0) this.#watched.delete(machineId)
      else this.#watched.set(machineId, n)
      this.#sendWatch()
    }
  }
}

/** The tab's single live connection. */
export const live = new LiveConnection()
