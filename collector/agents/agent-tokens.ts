/**
 * Agent token lifecycle beyond enrollment: rotation with a grace period, admin
 * requested rotation with an optional deadline, and revocation clean-up.
 *
 * Rotation: the agent calls `POST /api/v1/agent/rotate` with its token and gets a
 * new one; the previous token keeps working for `agentTokenGraceSec` (an answer
 * lost on the way must not lock the agent out), then dies. Responses to an agent
 * whose token is due carry `Vigie-Token-Rotate: due`.
 */
import type { Db } from '../store/sqlite/db.js'
import type { Registry } from '../store/sqlite/registry.js'
import { hashToken } from '../core/secrets.js'
import { migrateAuth } from '../auth/schema.js'

interface State { issued_ms: number, rotate_due_ms: number | null, deadline_ms: number | null, due_token_hash: string | null }

export class AgentTokenStore {
  readonly #db: Db
  readonly #registry: Registry
  /** Each agent's rotation state (null: none) and enrollment time; asked on every agent request, changed only here. */
  readonly #states = new Map<string, State | null>()
  readonly #created = new Map<string, number>()

  constructor (db: Db, registry: Registry) {
    migrateAuth(db)
    this.#db = db
    this.#registry = registry
  }

  #state (agentId: string): State | undefined {
    let st = this.#states.get(agentId)
    if (st === undefined) {
      st = (this.#db.prepare('SELECT issued_ms, rotate_due_ms, deadline_ms, due_token_hash FROM agent_token_state WHERE agent_id = ?').get(agentId) as State | undefined) ?? null
      if (this.#states.size >= 200_000) this.#states.clear()
      this.#states.set(agentId, st)
    }
    return st ?? undefined
  }

  #createdMs (agentId: string): number | undefined {
    let ms = this.#created.get(agentId)
    if (ms === undefined) {
      ms = this.#registry.getAgent(agentId)?.createdMs
      if (ms === undefined) return undefined
      if (this.#created.size >= 200_000) this.#created.clear()
      this.#created.set(agentId, ms)
    }
    return ms
  }

  /** Issues a new token for the agent; the old one stays valid for `graceMs`. */
  rotate (agentId: string, graceMs: number, nowMs: number): { token: string, previousValidUntilMs: number } | undefined {
    const tx = this.#db.transaction(() => {
      const r = this.#registry.rotateAgentToken(agentId)
      if (r === undefined) return undefined
      const until = nowMs + graceMs
      if (graceMs > 0) {
        this.#db.prepare('INSERT OR REPLACE INTO agent_grace_tokens (token_hash, agent_id, expires_ms) VALUES (?, ?, ?)').run(r.previousHash, agentId, until)
      }
      this.#db.prepare(`INSERT INTO agent_token_state (agent_id, issued_ms) VALUES (?, ?)
        ON CONFLICT(agent_id) DO UPDATE SET issued_ms = excluded.issued_ms, rotate_due_ms = NULL, deadline_ms = NULL, due_token_hash = NULL`).run(agentId, nowMs)
      return { token: r.token, previousValidUntilMs: graceMs > 0 ? until : nowMs }
    })
    this.#states.delete(agentId)
    return tx()
  }

  /** The agent a retired-but-still-in-grace token belongs to (undefined once expired or the agent is revoked). */
  findByGraceToken (token: string, nowMs: number): string | undefined {
    const r = this.#db.prepare('SELECT agent_id FROM agent_grace_tokens WHERE token_hash = ? AND expires_ms > ?').get(hashToken(token), nowMs) as { agent_id: string } | undefined
    if (r === undefined || !this.#registry.isAgentActive(r.agent_id)) return undefined
    return r.agent_id
  }

  /** An admin asks for a rotation; with a deadline, the current token stops working then unless rotated. */
  requestRotation (agentId: string, deadlineMs: number | null, nowMs: number): boolean {
    const agent = this.#registry.getAgent(agentId)
    if (agent === undefined || agent.revokedMs !== null) return false
    this.#db.prepare(`INSERT INTO agent_token_state (agent_id, issued_ms, rotate_due_ms, deadline_ms, due_token_hash) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(agent_id) DO UPDATE SET rotate_due_ms = excluded.rotate_due_ms, deadline_ms = excluded.deadline_ms, due_token_hash = excluded.due_token_hash`)
      .run(agentId, agent.createdMs, nowMs, deadlineMs, agent.tokenHash)
    this.#states.delete(agentId)
    return true
  }

  /** True when the agent should rotate now: asked by an admin, or its token is older than `maxAgeMs` (0 = never). */
  rotationDue (agentId: string, maxAgeMs: number, nowMs: number): boolean {
    const st = this.#state(agentId)
    if (st?.rotate_due_ms != null) return true
    if (maxAgeMs <= 0) return false
    const issued = st?.issued_ms ?? this.#createdMs(agentId) ?? nowMs
    return nowMs - issued >= maxAgeMs
  }

  /** True when this token was due for rotation with a deadline that has passed. */
  pastDeadline (agentId: string, token: string, nowMs: number): boolean {
    const st = this.#state(agentId)
    return st?.deadline_ms != null && st.deadline_ms <= nowMs && st.due_token_hash === hashToken(token)
  }

  /** Forgets grace tokens of a revoked agent (revocation is immediate, no grace). */
  dropAgent (agentId: string): void {
    this.#db.prepare('DELETE FROM agent_grace_tokens WHERE agent_id = ?').run(agentId)
  }

  prune (nowMs: number): number {
    return this.#db.prepare('DELETE FROM agent_grace_tokens WHERE expires_ms <= ?').run(nowMs).changes
  }
}
