/** Open agent WebSockets, so a revocation can close them at once and /metrics can count them. */
import type { WebSocket } from 'ws'

export class AgentStreams {
  readonly #byAgent = new Map<string, Set<WebSocket>>()
  #count = 0

  get size (): number { return this.#count }

  add (agentId: string, socket: WebSocket): void {
    let set = this.#byAgent.get(agentId)
    if (set === undefined) { set = new Set(); this.#byAgent.set(agentId, set) }
    if (!set.has(socket)) { set.add(socket); this.#count++ }
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
