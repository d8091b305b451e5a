/** The detection area's tables in the collector's SQLite database: saved engine state and the anomaly log. */
import { migrate, type Db } from '../store/sqlite/db.js'

const MIGRATIONS = [
  'CREATE TABLE detect_state (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL)',
  `CREATE TABLE detect_machine (machine_id TEXT PRIMARY KEY, saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE detect_global (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, state_json TEXT NOT NULL);
   CREATE TABLE anomaly_log (
     id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, at_ms INTEGER NOT NULL, series TEXT NOT NULL,
     state TEXT NOT NULL, title TEXT NOT NULL, evidence_json TEXT NOT NULL);
   CREATE INDEX anomaly_log_machine ON anomaly_log(machine_id, at_ms);
   DROP TABLE detect_state;`
]

/** Creates or upgrades the tables (idempotent). */
export function migrateDetect (db: Db): void {
  migrate(db, { name: 'detect_state', sql: MIGRATIONS })
}
