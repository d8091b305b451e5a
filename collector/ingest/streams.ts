/**
 * Open agent WebSockets, so a revocation can close them at once and /metrics can
 * count them. An agent holds one stream; a second is tolerated while the first
 * closes (a reconnect), and opening more closes the oldest, so one agent cannot pile
 * up connections.
 */
import type { WebSocket } from 'ws'

/** Streams one agent may hold at once. */
export const MAX_STREAMS_PER_AGENT = 2
/** Close code for a stream replaced by a newer one of the same agent. */
export const SUPERSEDED_CLOSE = 4009

export class AgentStreams {
  readonly #byAgent = new Map<string, Set<WebSocket>>()
  #count = 0

  get size (): number { return this.#count }

  add (agentId: string, socket: WebSocket): void {
    let set = this.#byAgent.get(agentId)
    if (set === undefined) { set = new Set(); this.#byAgent.set(agentId, set) }
    if (set.has(socket)) return
    // Sets keep insertion order: the first is the oldest.
    while (set.size >= MAX_STREAMS_PER_AGENT) {
      const oldest = set.values().next().value as WebSocket
      set.delete(oldest)
      this.#count--
      oldest.close(SUPERSEDED_CLOSE, 'superseded by a newer stream of this agent')
    }
    set.add(socket)
    this.#count++
  }

  remove (agentId: string, socket: WebSocket): void {
    const set = this.#byAgent.get(agentId)
    if (set?.delete(socket) === true) {
      this.#count--
      if (set.size === 0) this.#byAgent.delete(agentId)
    }
  }

  isConnected (agentId: string): boolean {
    return this.#byAgent.has(agentId)
  }

  /** Closes every stream of one agent (revocation). */
  closeAgent (agentId: string, code: number, reason: string): void {
    for (const s of this.#byAgent.get(agentId) ?? []) s.close(code, reason)
  }

  closeAll (code: number, reason: string): void {
    for (const set of this.#byAgent.values()) for (const s of set) s.close(code, reason)
  }
}
