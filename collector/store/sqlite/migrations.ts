/**
 * The embedded database's schema: the core migration chain and the chains of
 * other store areas that live beside it, and `migrate`, which applies a chain.
 * Each chain has a name and a version in `schema_versions`.
 */
import type { Db } from './db.js'

/** Ordered schema migrations; a migration is never edited once released, only appended. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    machine_key TEXT,
    hostname TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    pruned_seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX agents_machine_key ON agents(machine_key);
  CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
  );
  CREATE TABLE enroll_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_ms INTEGER
  );
  CREATE TABLE machines (
    id TEXT PRIMARY KEY,
    hostname TEXT NOT NULL,
    host_json TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    last_sampled_ms INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    latest_json TEXT NOT NULL,
    unavailable_json TEXT NOT NULL,
    clock_skew_ms INTEGER NOT NULL DEFAULT 0,
    dropped_reports INTEGER NOT NULL DEFAULT 0,
    inventory_hash TEXT
  );
  CREATE TABLE reports (
    agent_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    sampled_ms INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (agent_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX reports_received ON reports(received_ms);
  CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    name TEXT NOT NULL,
    labels_json TEXT NOT NULL,
    unit TEXT NOT NULL,
    UNIQUE (machine_id, name, labels_json)
  );
  CREATE TABLE samples (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (series_id, ts)
  ) WITHOUT ROWID;
  CREATE TABLE inventory (
    machine_id TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    version TEXT NOT NULL,
    since_ms INTEGER NOT NULL,
    PRIMARY KEY (machine_id, name, source)
  ) WITHOUT ROWID;
  CREATE INDEX inventory_name ON inventory(name, version);
  CREATE TABLE inventory_changes (
    id INTEGER PRIMARY KEY,
    machine_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    from_version TEXT,
    to_version TEXT
  );
  CREATE INDEX inventory_changes_machine ON inventory_changes(machine_id, at_ms);
  `,
  // The latest values (~50 metrics, a few KB) lived in the machines row, rewritten
  // with every report. They move to their own table, checkpointed (registry.ts).
  `
  CREATE TABLE machine_latest (machine_id TEXT PRIMARY KEY, latest_ms INTEGER NOT NULL, latest_json TEXT NOT NULL);
  INSERT INTO machine_latest (machine_id, latest_ms, latest_json) SELECT id, last_sampled_ms, latest_json FROM machines;
  UPDATE machines SET latest_json = '[]';
  `
]

/**
 * The seq ledger's own migration chain (name 'ledger', applied by the Registry), so
 * it never collides with the core chain's order. `content_hash`: a compact hash of
 * what a report said (sampledAt and metric values), so a resend is told apart from
 * a different report with the same seq. Rows from before have none (NULL): they
 * stay duplicates as before, and age out with the ledger.
 */
export const LEDGER_MIGRATIONS: string[] = [
  'ALTER TABLE reports ADD COLUMN content_hash INTEGER'
]

/**
 * Agent identity (collector/store/sqlite/agents.ts): an agent is 'active',
 * 'pending' (an admin must approve it: it enrolled with a machine key already
 * known, without that machine's current token) or 'rejected'; the hardware facts
 * it enrolled with; and why it was flagged (machine key shared with other agents,
 * hardware that differs: a cloned image).
 */
export const AGENT_IDENTITY_MIGRATIONS: string[] = [
  `
  ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
  ALTER TABLE agents ADD COLUMN hardware_json TEXT;
  ALTER TABLE agents ADD COLUMN identity_json TEXT;
  CREATE INDEX agents_status ON agents(status);
  `
]

/**
 * Inventory change history budget (inventory.ts): a count of changes a report
 * could not record (one summary row per report), and the indexes the per-machine
 * bound (by id) and the retention prune (by time) need.
 */
export const INVENTORY_HISTORY_MIGRATIONS: string[] = [
  `
  ALTER TABLE inventory_changes ADD COLUMN omitted INTEGER;
  CREATE INDEX inventory_changes_machine_id ON inventory_changes(machine_id, id);
  CREATE INDEX inventory_changes_at ON inventory_changes(at_ms);
  `
]

/** Appends a migration to the schema chain (used by other store areas: incidents, kb, outbox). */
export function migrate (db: Db, extra: { name: string, sql: string[] } = { name: 'core', sql: MIGRATIONS }): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)')
  const row = db.prepare('SELECT version FROM schema_versions WHERE name = ?').get(extra.name) as { version: number } | undefined
  let version = row?.version ?? 0
  if (version > extra.sql.length) {
    throw new Error(`database schema '${extra.name}' is version ${version}, newer than this collector knows (${extra.sql.length}); upgrade the collector`)
  }
  const apply = db.transaction(() => {
    for (; version < extra.sql.length; version++) db.exec(extra.sql[version])
    db.prepare('INSERT INTO schema_versions (name, version) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version').run(extra.name, version)
  })
  apply()
}
