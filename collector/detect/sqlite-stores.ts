/** The detection state and the anomaly log in the collector's SQLite database. */
import type { Db } from '../store/sqlite/db.js'
import type { Finding } from './finding.js'
import { migrateDetect } from './sqlite-tables.js'
import type { AnomalyEntry, AnomalyLog, DetectionStateStore, SavedDetectionState } from './stores.js'

export class SqliteDetectionStateStore implements DetectionStateStore {
  readonly #db: Db
  readonly #upsertMachine
  readonly #upsertGlobal

  constructor (db: Db) {
    this.#db = db
    migrateDetect(db)
    this.#upsertMachine = db.prepare('INSERT INTO detect_machine (machine_id, saved_ms, state_json) VALUES (?, ?, ?) ON CONFLICT(machine_id) DO UPDATE SET saved_ms = excluded.saved_ms, state_json = excluded.state_json')
    this.#upsertGlobal = db.prepare('INSERT INTO detect_global (id, saved_ms, state_json) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET saved_ms = excluded.saved_ms, state_json = excluded.state_json')
  }

  async load (): Promise<SavedDetectionState> {
    const machines = (this.#db.prepare('SELECT machine_id, state_json FROM detect_machine').all() as Array<{ machine_id: string, state_json: string }>)
      .map((r): [string, string] => [r.machine_id, r.state_json])
    const global = this.#db.prepare('SELECT state_json FROM detect_global WHERE id = 1').pluck().get() as string | undefined
    return global === undefined ? { machines } : { machines, global }
  }

  async save (savedMs: number, state: SavedDetectionState): Promise<void> {
    this.#db.transaction(() => {
      for (const [id, json] of state.machines) this.#upsertMachine.run(id, savedMs, json)
      if (state.global !== undefined) this.#upsertGlobal.run(savedMs, state.global)
    })()
  }
}

export class SqliteAnomalyLog implements AnomalyLog {
  readonly #db: Db
  readonly #insert

  constructor (db: Db) {
    this.#db = db
    migrateDetect(db)
    this.#insert = db.prepare('INSERT INTO anomaly_log (machine_id, at_ms, series, state, title, evidence_json) VALUES (?, ?, ?, ?, ?, ?)')
  }

  record (f: Finding): void {
    this.#insert.run(f.machineId, f.atMs, f.series ?? '', f.state, f.title, JSON.stringify(f.evidence))
  }

  async list (machineId: string, limit: number): Promise<AnomalyEntry[]> {
    const rows = this.#db.prepare('SELECT at_ms, series, state, title, evidence_json FROM anomaly_log WHERE machine_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?')
      .all(machineId, limit) as Array<{ at_ms: number, series: string, state: Finding['state'], title: string, evidence_json: string }>
    return rows.map(r => ({ atMs: r.at_ms, series: r.series, state: r.state, title: r.title, evidence: JSON.parse(r.evidence_json) as Record<string, unknown> }))
  }

  async prune (beforeMs: number): Promise<number> {
    return this.#db.prepare('DELETE FROM anomaly_log WHERE at_ms < ?').run(beforeMs).changes
  }
}
