/**
 * What the registry composes besides ingest and machines: agents and inventory
 * (one class each, beside this file), exposed as
 * fields, and the registry's methods for them, which delegate to the parts until
 * callers use the parts themselves (`registry.agents.find(token)`).
 */
import type { Db } from './db.js'
import type { EnrollHardware, InstalledApp } from '../../../protocol/index.js'
import { SqliteAgents, type AgentInfo, type AgentPrincipal, type AgentStatus, type EnrollOutcome } from './agents.js'
import { SqliteInventory, type InventoryBudget, type InventoryChange } from './inventory.js'

export class RegistryParts {
  readonly agents: SqliteAgents
  readonly inventory: SqliteInventory

  /** `db` migrated: the tables of every part exist (Registry runs its chains first). */
  constructor (db: Db) {
    this.agents = new SqliteAgents(db)
    this.inventory = new SqliteInventory(db)
  }

  /* ---- agents (agents.ts) ---- */

  /** Registers an agent and returns its secret token (SqliteAgents.enroll: re-enrollment, the identity flag). */
  enrollAgent (opts: { hostname: string, machineKey?: string, hardware?: EnrollHardware, agentToken?: string }, nowMs = Date.now()): EnrollOutcome {
    return this.agents.enroll(opts, nowMs)
  }

  /** True when this token is the current one of an active or pending agent with this machine key (a re-enrollment adds no machine). */
  isReenrollment (machineKey: string | undefined, agentToken: string | undefined): boolean { return this.agents.isReenrollment(machineKey, agentToken) }
  /** Agents that count against the machine cap: not revoked, not rejected. */
  countMachines (): number { return this.agents.countMachines() }
  /** The highest seq stored (or forgotten by the ledger's pruning) under this agent id; 0 if none. */
  lastSeq (agentId: string): number { return this.agents.lastSeq(agentId) }
  /** Agents (never their token), newest first; optionally only those in one status. */
  listAgents (status?: AgentStatus, limit = 1000): AgentInfo[] { return this.agents.list(status, limit) }
  /** Lifts a revocation (admin only): the agent's current token works again. False if not revoked, or rejected. */
  unrevokeAgent (agentId: string): boolean { return this.agents.unrevoke(agentId) }
  /** A pending agent becomes active: its reports are accepted from now on. */
  approveAgent (agentId: string): boolean { return this.agents.approve(agentId) }
  /** A pending agent is refused for good: its token stops working (it is revoked, and cannot be reinstated). */
  rejectAgent (agentId: string, nowMs = Date.now()): boolean { return this.agents.reject(agentId, nowMs) }
  /** The agent this token belonged to when it is revoked (for a clear refusal), undefined otherwise. */
  findRevokedAgent (token: string): string | undefined { return this.agents.findRevoked(token) }
  findAgent (token: string): AgentPrincipal | undefined { return this.agents.find(token) }
  isAgentActive (agentId: string): boolean { return this.agents.isActive(agentId) }
  /** The agent's registration (for revocation and rotation), without its token. */
  getAgent (agentId: string): AgentInfo | undefined { return this.agents.get(agentId) }
  /** Gives an active agent a new secret token; returns it and the hash of the one it replaces. */
  rotateAgentToken (agentId: string): { token: string, previousHash: string } | undefined { return this.agents.rotateToken(agentId) }
  /** Revokes an agent; sticky: no enrollment lifts it, only unrevokeAgent (an admin). */
  revokeAgent (agentId: string, nowMs = Date.now()): boolean { return this.agents.revoke(agentId, nowMs) }

  /* ---- inventory (inventory.ts) ---- */

  /** Sets the inventory history bounds (collector/app.ts, from the configuration). */
  setInventoryBudget (budget: Partial<InventoryBudget>): void { this.inventory.setBudget(budget) }
  /** Deletes inventory change history older than `beforeMs` (the hourly retention prune). Returns rows deleted. */
  pruneInventoryChanges (beforeMs: number): number { return this.inventory.pruneChanges(beforeMs) }
  /** Inventory change rows stored for one machine. */
  countInventoryChanges (machineId: string): number { return this.inventory.countChanges(machineId) }

  getInventory (machineId: string): InstalledApp[] { return this.inventory.get(machineId) }
  /** Machines with an application installed (name matched case-insensitively), optionally at a version prefix. */
  machinesWithSoftware (name: string, version?: string): string[] { return this.inventory.machinesWithSoftware(name, version) }
  getInventoryChanges (machineId: string, limit = 200): InventoryChange[] { return this.inventory.changes(machineId, limit) }
}
