/**
 * What the registry composes besides ingest and machines: inventory (its own
 * class, beside this file), exposed as a field, and the registry's methods for
 * it, which delegate (`registry.inventory` is the same).
 */
import type { Db } from './db.js'
import type { InstalledApp } from '../../../protocol/index.js'
import { SqliteInventory, type InventoryBudget, type InventoryChange } from './inventory.js'

export class RegistryParts {
  readonly inventory: SqliteInventory

  /** `db` migrated: the tables of every part exist (Registry runs its chains first). */
  constructor (db: Db) {
    this.inventory = new SqliteInventory(db)
  }

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
