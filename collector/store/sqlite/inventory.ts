/**
 * Machines' installed applications in the embedded SQLite database, and the
 * bounded history of their changes. `apply` runs inside the registry's ingest
 * transaction, so a report's inventory commits with the rest of it.
 */
import type { Statement } from 'better-sqlite3'
import type { Db } from './db.js'
import type { InstalledApp } from '../../../protocol/index.js'

export interface InventoryChange {
  atMs: number
  name: string
  source: string
  from: string | null
  to: string | null
  /** on a summary row only: changes of that report beyond the per-report cap, counted but not recorded */
  omitted?: number
}

/** Bounds on the inventory change history (collector/core/config.ts: VIGIE_INVENTORY_*). */
export interface InventoryBudget {
  /** changes recorded per report; beyond it one summary row counts the rest */
  maxChangesPerReport: number
  /** change rows kept per machine; the oldest are deleted beyond it */
  maxHistoryPerMachine: number
}

export const DEFAULT_INVENTORY_BUDGET: InventoryBudget = { maxChangesPerReport: 2000, maxHistoryPerMachine: 20_000 }

interface RawChange { at_ms: number, name: string, source: string, from_version: string | null, to_version: string | null, omitted: number | null }

export class SqliteInventory {
  readonly #current: Statement<[string], { name: string, source: string, version: string }>
  readonly #upsert: Statement<[string, string, string, string, number]>
  readonly #delete: Statement<[string, string, string]>
  readonly #log: Statement<[string, number, string, string, string | null, string | null]>
  readonly #logOmitted: Statement<[string, number, number]>
  readonly #historyEdge: Statement<[string, number], { id: number }>
  readonly #trimHistory: Statement<[string, number]>
  readonly #prune: Statement<[number]>
  readonly #countChanges: Statement<[string], { n: number }>
  readonly #get: Statement<[string], InstalledApp>
  readonly #withName: Statement<[string], { machine_id: string }>
  readonly #withNameVersion: Statement<[string, string], { machine_id: string }>
  readonly #changes: Statement<[string, number], RawChange>
  #budget: InventoryBudget = DEFAULT_INVENTORY_BUDGET

  constructor (db: Db) {
    this.#current = db.prepare('SELECT name, source, version FROM inventory WHERE machine_id = ?')
    this.#upsert = db.prepare(`INSERT INTO inventory (machine_id, name, source, version, since_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(machine_id, name, source) DO UPDATE SET version = excluded.version, since_ms = excluded.since_ms`)
    this.#delete = db.prepare('DELETE FROM inventory WHERE machine_id = ? AND name = ? AND source = ?')
    this.#log = db.prepare('INSERT INTO inventory_changes (machine_id, at_ms, name, source, from_version, to_version) VALUES (?, ?, ?, ?, ?, ?)')
    this.#logOmitted = db.prepare("INSERT INTO inventory_changes (machine_id, at_ms, name, source, from_version, to_version, omitted) VALUES (?, ?, '', '', NULL, NULL, ?)")
    this.#historyEdge = db.prepare('SELECT id FROM inventory_changes WHERE machine_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
    this.#trimHistory = db.prepare('DELETE FROM inventory_changes WHERE machine_id = ? AND id <= ?')
    this.#prune = db.prepare('DELETE FROM inventory_changes WHERE at_ms < ?')
    this.#countChanges = db.prepare('SELECT count(*) AS n FROM inventory_changes WHERE machine_id = ?')
    this.#get = db.prepare('SELECT name, version, source FROM inventory WHERE machine_id = ? ORDER BY name')
    this.#withName = db.prepare('SELECT DISTINCT machine_id FROM inventory WHERE name = ? COLLATE NOCASE')
    this.#withNameVersion = db.prepare("SELECT DISTINCT machine_id FROM inventory WHERE name = ? COLLATE NOCASE AND version LIKE ? ESCAPE '\\'")
    this.#changes = db.prepare('SELECT at_ms, name, source, from_version, to_version, omitted FROM inventory_changes WHERE machine_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?')
  }

  /** Sets the history bounds (collector/app.ts, from the configuration). */
  setBudget (budget: Partial<InventoryBudget>): void {
    this.#budget = { ...this.#budget, ...budget }
  }

  /**
   * Applies one report's inventory, inside the caller's transaction. The inventory
   * itself always becomes what the report says; the change history is bounded: at
   * most `maxChangesPerReport` rows per report (the first ones, in report order,
   * then removals), plus one summary row (empty name, `omitted` = how many more)
   * when there were more, and at most `maxHistoryPerMachine` rows per machine (the
   * oldest deleted). Returns the changes recorded.
   */
  apply (machineId: string, apps: readonly InstalledApp[], atMs: number): InventoryChange[] {
    const current = this.#current.all(machineId)
    const before = new Map(current.map(a => [a.name + '\0' + a.source, a.version]))
    const after = new Map<string, InstalledApp>()
    for (const a of apps) after.set(a.name + '\0' + (a.source ?? ''), a)
    const changes: InventoryChange[] = []
    const first = current.length === 0
    const { maxChangesPerReport, maxHistoryPerMachine } = this.#budget
    let omitted = 0
    const record = (c: InventoryChange): void => {
      if (changes.length >= maxChangesPerReport) { omitted++; return }
      this.#log.run(machineId, atMs, c.name, c.source, c.from, c.to)
      changes.push(c)
    }
    for (const [key, app] of after) {
      const old = before.get(key)
      if (old === app.version) continue
      this.#upsert.run(machineId, app.name, app.source ?? '', app.version, atMs)
      if (!first) record({ atMs, name: app.name, source: app.source ?? '', from: old ?? null, to: app.version })
    }
    for (const [key, version] of before) {
      if (after.has(key)) continue
      const [name, source] = key.split('\0')
      this.#delete.run(machineId, name, source)
      record({ atMs, name, source, from: version, to: null })
    }
    if (omitted > 0) this.#logOmitted.run(machineId, atMs, omitted)
    if (changes.length > 0) {
      // Keep the newest maxHistoryPerMachine rows of this machine (index machine_id, id).
      const edge = this.#historyEdge.get(machineId, maxHistoryPerMachine)
      if (edge !== undefined) this.#trimHistory.run(machineId, edge.id)
    }
    return changes
  }

  /** Deletes change history older than `beforeMs` (the hourly retention prune). Returns rows deleted. */
  pruneChanges (beforeMs: number): number {
    return this.#prune.run(beforeMs).changes
  }

  /** Change rows stored for one machine. */
  countChanges (machineId: string): number {
    return (this.#countChanges.get(machineId) as { n: number }).n
  }

  get (machineId: string): InstalledApp[] {
    return this.#get.all(machineId)
  }

  /** Machines with an application installed (name matched case-insensitively), optionally at a version prefix. */
  machinesWithSoftware (name: string, version?: string): string[] {
    const rows = version === undefined || version === ''
      ? this.#withName.all(name)
      : this.#withNameVersion.all(name, version.replace(/[%_\\]/g, m => '\\' + m) + '%')
    return rows.map(r => r.machine_id)
  }

  changes (machineId: string, limit = 200): InventoryChange[] {
    return this.#changes.all(machineId, limit)
      .map(r => ({ atMs: r.at_ms, name: r.name, source: r.source, from: r.from_version, to: r.to_version, ...(r.omitted !== null ? { omitted: r.omitted } : {}) }))
  }
}
