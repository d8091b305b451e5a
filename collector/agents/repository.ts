/**
 * Where agents are kept: their registration (machine key, hardware at
 * enrollment, the identity flag), status, revocation, and their token's
 * lifecycle (current hash, rotation state, grace tokens). The interface every
 * store implements (SQLite in sqlite-store.ts; a network database later), with
 * its contract in test/collector/agents/contract.ts. Hashes only: the values are
 * made and hashed by the directory (directory.ts), which also keeps the caches
 * the ingest path reads from.
 */
import type { EnrollHardware } from '../../protocol/index.js'

export type AgentStatus = 'active' | 'pending' | 'rejected'
/** Why an agent was flagged at enrollment: its machine key was already known (and whether the hardware differs: a cloned image). */
export interface AgentIdentityFlag { machineKeySharedWith: string[], hardwareDiffers: boolean }
export interface AgentPrincipal { id: string, hostname: string, /** enrolled with a known machine key and not yet approved */ pending?: boolean }
export interface AgentInfo {
  id: string, hostname: string, createdMs: number, revokedMs: number | null, tokenHash: string,
  status: AgentStatus, hardware: (EnrollHardware & { hostname?: string }) | null, identity: AgentIdentityFlag | null
}
/** An agent's token rotation: issued when, asked to rotate when, and the deadline after which `dueTokenHash` stops working. */
export interface TokenState { issuedMs: number, rotateDueMs: number | null, deadlineMs: number | null, dueTokenHash: string | null }

export interface EnrollRequest {
  /** the id a new agent gets */
  newId: string
  /** the hash of the token the agent gets */
  tokenHash: string
  hostname: string
  machineKey?: string
  hardware?: EnrollHardware
  /** the hash of the token the caller presented, proving it is the agent of `machineKey` */
  presentedHash?: string
  atMs: number
}
export interface EnrollResult { agentId: string, status: 'active' | 'pending', reenrolled: boolean, lastSeq: number, identity?: AgentIdentityFlag }

export interface AgentRepository {
  /**
   * One enrollment, atomically. A machine key already known keeps its agent id
   * only when `presentedHash` is that agent's current token (not revoked, not
   * rejected): its token becomes `tokenHash`, a re-enrollment. Otherwise a new
   * agent `newId` is added, 'pending' and flagged when the key is known
   * (hardwareDiffers: agents/identity.ts), 'active' when not. `lastSeq` is the
   * highest seq stored under the id.
   */
  enroll: (r: EnrollRequest) => Promise<EnrollResult>
  /** True when `presentedHash` is the current token of an active or pending agent with this machine key. */
  isReenrollment: (machineKey: string, presentedHash: string) => Promise<boolean>
  /** Agents that count against the machine cap: not revoked (rejected ones are revoked). */
  countMachines: () => Promise<number>
  /** The highest seq stored, forgotten by the ledger's pruning, or recorded on the machine, under this id; 0 if none. */
  lastSeq: (agentId: string) => Promise<number>
  /** Newest first (created, then id); optionally one status only. */
  list: (status: AgentStatus | undefined, limit: number) => Promise<AgentInfo[]>
  get: (agentId: string) => Promise<AgentInfo | undefined>
  /** The unrevoked agent whose current token has this hash, with its status. */
  byTokenHash: (tokenHash: string) => Promise<(AgentPrincipal & { status: AgentStatus, createdMs: number }) | undefined>
  /** The revoked agent whose token had this hash. */
  revokedByTokenHash: (tokenHash: string) => Promise<string | undefined>
  /** True when the agent is neither revoked nor pending nor rejected. */
  isActive: (agentId: string) => Promise<boolean>

  /** pending → active; false when not pending (or revoked). */
  approve: (agentId: string) => Promise<boolean>
  /** pending → rejected and revoked at `atMs`, grace tokens dropped; false when not pending. */
  reject: (agentId: string, atMs: number) => Promise<boolean>
  /** Revokes at `atMs` and drops its grace tokens; false when already revoked or unknown. */
  revoke: (agentId: string, atMs: number) => Promise<boolean>
  /** Lifts a revocation; false when not revoked, or rejected. */
  unrevoke: (agentId: string) => Promise<boolean>

  /**
   * Atomically: the unrevoked agent's token becomes `newHash`; the previous one
   * is kept as a grace token until `graceUntilMs` (none when null); the rotation
   * state is reset (issued at `atMs`, nothing due). Undefined when the agent is
   * revoked or unknown.
   */
  rotateToken: (agentId: string, newHash: string, atMs: number, graceUntilMs: number | null) => Promise<{ previousHash: string } | undefined>
  /** The active agent a grace token still valid at `atMs` belongs to. */
  byGraceHash: (tokenHash: string, atMs: number) => Promise<string | undefined>
  /** The agent's rotation state; undefined when none was ever recorded (issued at enrollment, nothing due). */
  tokenState: (agentId: string) => Promise<TokenState | undefined>
  /** Records that the unrevoked agent must rotate (due at `atMs`, its current token dying at `deadlineMs` if given); false when revoked or unknown. */
  requestRotation: (agentId: string, atMs: number, deadlineMs: number | null) => Promise<boolean>
  /** Deletes grace tokens expired at `atMs`; returns how many. */
  pruneGraceTokens: (atMs: number) => Promise<number>
}
