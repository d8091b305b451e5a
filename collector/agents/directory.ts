/**
 * The agents area's service: enrollment, authentication, status changes and
 * the token lifecycle over an AgentRepository (repository.ts), with the caches
 * the ingest path reads from.
 *
 * Every agent request and stream frame asks who the agent is; the answer is
 * kept after the first asynchronous lookup, so a known agent is answered
 * without a promise (`authenticateCached`, `isActive`, `rotationDue`). Every
 * change made through this directory updates the caches at once. Changes made
 * by another collector on a shared database will need a notification to do the
 * same (not needed while one collector owns the database).
 *
 * Rotation: the agent calls `POST /api/v1/agent/rotate` with its token and gets a
 * new one; the previous token keeps working for a grace period (an answer lost on
 * the way must not lock the agent out), then dies. An admin may ask for a rotation
 * with a deadline, after which the token that was current stops working.
 */
import type { EnrollHardware } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import { hashToken, newId, newToken } from '../core/secrets.js'
import type { AgentIdentityFlag, AgentInfo, AgentPrincipal, AgentRepository, AgentStatus, TokenState } from './repository.js'

export interface EnrollOutcome {
  agentId: string, token: string, status: 'active' | 'pending', reenrolled: boolean, lastSeq: number, identity?: AgentIdentityFlag
}

/** What authentication keeps per agent: its enrollment time and rotation state. */
interface Known { createdMs: number, state: TokenState | undefined }

/** Entries kept at most in the lookup caches; beyond, they start again (the active set is not bounded by this: it holds agents with open streams). */
const MAX_CACHED = 200_000

export class AgentDirectory {
  readonly #store: AgentRepository
  /** current token hash → principal (hits only, so random tokens cannot grow it) */
  readonly #byHash = new Map<string, AgentPrincipal>()
  readonly #hashOf = new Map<string, string>()
  readonly #known = new Map<string, Known>()
  /** agents authenticated as active and not revoked or rejected since */
  readonly #active = new Set<string>()

  constructor (store: AgentRepository) { this.#store = store }

  /* ---- enrollment ---- */

  /**
   * Registers an agent and returns its secret token (only its hash is kept); a
   * known machine key keeps its id only with that machine's current token
   * (`agentToken`), otherwise the machine is new and pending (AgentRepository.enroll).
   */
  async enroll (opts: { hostname: string, machineKey?: string, hardware?: EnrollHardware, agentToken?: string }, nowMs = Date.now()): Promise<EnrollOutcome> {
    const token = newToken('vga')
    const r = await this.#store.enroll({
      newId: newId('m'),
      tokenHash: hashToken(token),
      hostname: opts.hostname,
      ...(opts.machineKey !== undefined ? { machineKey: opts.machineKey } : {}),
      ...(opts.hardware !== undefined ? { hardware: opts.hardware } : {}),
      ...(opts.agentToken !== undefined ? { presentedHash: hashToken(opts.agentToken) } : {}),
      atMs: nowMs
    })
    if (r.reenrolled) this.#forget(r.agentId)
    return { ...r, token }
  }

  /** True when this token is the current one of an active or pending agent with this machine key (a re-enrollment adds no machine). */
  async isReenrollment (machineKey: string | undefined, agentToken: string | undefined): Promise<boolean> {
    if (machineKey === undefined || agentToken === undefined) return false
    return await this.#store.isReenrollment(machineKey, hashToken(agentToken))
  }

  /** Agents that count against the machine cap: not revoked, not rejected. */
  async countMachines (): Promise<number> { return await this.#store.countMachines() }
  /** The highest seq stored (or forgotten by the ledger's pruning) under this agent id; 0 if none. */
  async lastSeq (agentId: string): Promise<number> { return await this.#store.lastSeq(agentId) }
  /** Agents (never their token), newest first; optionally only those in one status. */
  async list (status?: AgentStatus, limit = 1000): Promise<AgentInfo[]> { return await this.#store.list(status, limit) }
  /** The agent's registration, without its token. */
  async get (agentId: string): Promise<AgentInfo | undefined> { return await this.#store.get(agentId) }

  /* ---- authentication (the ingest path) ---- */

  /** The agent, when its token is current, known here, past no deadline and not pending; undefined otherwise (ask `authenticate`). */
  authenticateCached (token: string, nowMs: number): AgentPrincipal | undefined {
    const hash = hashToken(token)
    const p = this.#byHash.get(hash)
    if (p === undefined || p.pending === true) return undefined
    const known = this.#known.get(p.id)
    if (known === undefined || pastDeadline(known.state, hash, nowMs)) return undefined
    return { ...p }
  }

  /**
   * The agent a token stands for: its current token, or one retired by a rotation
   * within its grace period. Throws VIGIE_ERR_UNAUTHORIZED (unknown, or past a
   * rotation deadline), VIGIE_ERR_AGENT_REVOKED, VIGIE_ERR_AGENT_PENDING.
   */
  async authenticate (token: string, nowMs: number): Promise<AgentPrincipal> {
    const hash = hashToken(token)
    const cached = this.#byHash.get(hash)
    let agent = cached !== undefined && this.#known.has(cached.id) ? cached : undefined
    if (agent === undefined) {
      const found = await this.#store.byTokenHash(hash)
      if (found !== undefined) {
        agent = { id: found.id, hostname: found.hostname, ...(found.pending === true ? { pending: true } : {}) }
        await this.#learn(agent.id, found.createdMs)
        if (this.#byHash.size >= MAX_CACHED) { this.#byHash.clear(); this.#hashOf.clear() }
        this.#byHash.set(hash, agent)
        this.#hashOf.set(agent.id, hash)
      } else {
        const id = await this.#store.byGraceHash(hash, nowMs)
        const info = id === undefined ? undefined : await this.#store.get(id)
        if (info !== undefined) {
          agent = { id: info.id, hostname: info.hostname }
          await this.#learn(info.id, info.createdMs)
        }
      }
    }
    if (agent === undefined && await this.#store.revokedByTokenHash(hash) !== undefined) {
      throw new VigieError('VIGIE_ERR_AGENT_REVOKED', 'this agent was revoked by an admin; only an admin can reinstate it (nothing sent now is stored)')
    }
    if (agent === undefined || pastDeadline(this.#known.get(agent.id)?.state, hash, nowMs)) {
      throw new VigieError('VIGIE_ERR_UNAUTHORIZED', 'unknown or revoked agent token')
    }
    if (agent.pending === true) {
      throw new VigieError('VIGIE_ERR_AGENT_PENDING', `machine ${agent.id} enrolled with a machine key already known and awaits an admin's approval; its reports are refused until then`)
    }
    this.#active.add(agent.id)
    return { ...agent }
  }

  /** The unrevoked agent whose current token this is (pending ones included), without the checks. */
  async find (token: string): Promise<AgentPrincipal | undefined> {
    const found = await this.#store.byTokenHash(hashToken(token))
    return found === undefined ? undefined : { id: found.id, hostname: found.hostname, ...(found.pending === true ? { pending: true } : {}) }
  }

  /** True while an agent authenticated here is neither revoked nor rejected since (every stream frame asks). */
  isActive (agentId: string): boolean { return this.#active.has(agentId) }

  /** True when the agent should rotate now: asked by an admin, or its token is older than `maxAgeMs` (0 = never). Known agents only. */
  rotationDue (agentId: string, maxAgeMs: number, nowMs: number): boolean {
    const known = this.#known.get(agentId)
    if (known === undefined) return false
    if (known.state?.rotateDueMs != null) return true
    if (maxAgeMs <= 0) return false
    return nowMs - (known.state?.issuedMs ?? known.createdMs) >= maxAgeMs
  }

  async #learn (agentId: string, createdMs: number): Promise<void> {
    const state = await this.#store.tokenState(agentId)
    if (this.#known.size >= MAX_CACHED) this.#known.clear()
    this.#known.set(agentId, { createdMs, state })
  }

  /** Drops what is cached of an agent (it changed). */
  #forget (agentId: string): void {
    const hash = this.#hashOf.get(agentId)
    if (hash !== undefined) this.#byHash.delete(hash)
    this.#hashOf.delete(agentId)
    this.#known.delete(agentId)
  }

  /* ---- status (admins) ---- */

  /** A pending agent becomes active: its reports are accepted from now on. */
  async approve (agentId: string): Promise<boolean> {
    const ok = await this.#store.approve(agentId)
    this.#forget(agentId)
    return ok
  }

  /** A pending agent is refused for good: its token stops working (revoked, and cannot be reinstated). */
  async reject (agentId: string, nowMs = Date.now()): Promise<boolean> {
    const ok = await this.#store.reject(agentId, nowMs)
    this.#forget(agentId)
    this.#active.delete(agentId)
    return ok
  }

  /** Revokes an agent at once, grace tokens included; sticky: no enrollment lifts it, only unrevoke (an admin). */
  async revoke (agentId: string, nowMs = Date.now()): Promise<boolean> {
    const ok = await this.#store.revoke(agentId, nowMs)
    this.#forget(agentId)
    this.#active.delete(agentId)
    return ok
  }

  /** Lifts a revocation (admin only): the agent's current token works again. False if not revoked, or rejected. */
  async unrevoke (agentId: string): Promise<boolean> {
    const ok = await this.#store.unrevoke(agentId)
    this.#forget(agentId)
    return ok
  }

  /* ---- token lifecycle ---- */

  /** Issues a new token for the agent; the old one stays valid for `graceMs`. Undefined when revoked or unknown. */
  async rotate (agentId: string, graceMs: number, nowMs: number): Promise<{ token: string, previousValidUntilMs: number } | undefined> {
    const token = newToken('vga')
    const until = nowMs + graceMs
    const r = await this.#store.rotateToken(agentId, hashToken(token), nowMs, graceMs > 0 ? until : null)
    this.#forget(agentId)
    if (r === undefined) return undefined
    return { token, previousValidUntilMs: graceMs > 0 ? until : nowMs }
  }

  /** An admin asks for a rotation; with a deadline, the current token stops working then unless rotated. False when revoked or unknown. */
  async requestRotation (agentId: string, deadlineMs: number | null, nowMs: number): Promise<boolean> {
    const ok = await this.#store.requestRotation(agentId, nowMs, deadlineMs)
    this.#forget(agentId)
    return ok
  }

  /** Deletes expired grace tokens. */
  async prune (nowMs: number): Promise<number> { return await this.#store.pruneGraceTokens(nowMs) }
}

/** True when this token was due for rotation with a deadline that has passed. */
function pastDeadline (state: TokenState | undefined, hash: string, nowMs: number): boolean {
  return state?.deadlineMs != null && state.deadlineMs <= nowMs && state.dueTokenHash === hash
}
