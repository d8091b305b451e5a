/**
 * Opens the embedded SQLite database (WAL) and brings its schema up to date.
 * Only files under collector/store/sqlite/ import better-sqlite3.
 */
import Database from 'better-sqlite3'
import fs from 'node:fs'
import path from 'node:path'

export type Db = Database.Database

/** Ordered schema migrations; a migration is never edited once released, only appended. */
const MIGRATIONS: string[] = [
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

/** Opens (creating if needed) `<dataDir>/vigie.db`, or an in-memory database for ':memory:'. */
export function openDb (file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  // NORMAL in WAL mode keeps every committed transaction across a process crash;
  // only an OS crash / power loss can lose the last transactions.
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  // Ingest dirties one samples leaf page per series per report. A larger page cache
  // keeps those pages in memory between reports, and a larger WAL lets a checkpoint
  // write each page once for many commits (the default 1000 pages checkpointed, with
  // fsyncs on the event loop, after nearly every batch at fleet scale).
  db.pragma('cache_size = -65536') // KiB: 64 MiB
  db.pragma('wal_autocheckpoint = 16384') // pages: 64 MiB of WAL
  db.pragma('temp_store = MEMORY')
  cacheStatements(db)
  immediateTransactions(db)
  migrate(db)
  migrate(db, { name: 'inventory_history', sql: INVENTORY_HISTORY_MIGRATIONS })
  return db
}

/**
 * Inventory change history budget (registry.ts): a count of changes a report
 * could not record (one summary row per report), and the indexes the per-machine
 * bound (by id) and the retention prune (by time) need.
 */
const INVENTORY_HISTORY_MIGRATIONS: string[] = [
  `
  ALTER TABLE inventory_changes ADD COLUMN omitted INTEGER;
  CREATE INDEX inventory_changes_machine_id ON inventory_changes(machine_id, id);
  CREATE INDEX inventory_changes_at ON inventory_changes(at_ms);
  `
]

/**
 * Makes `db.transaction(fn)` begin IMMEDIATE (take the write lock at BEGIN) instead
 * of DEFERRED. A deferred transaction that reads before it writes must upgrade its
 * read lock, and SQLite answers an upgrade that finds the write lock taken with
 * SQLITE_BUSY at once, without waiting (waiting could deadlock). The background
 * checkpointer takes that lock for a moment when it restarts the WAL, so under load
 * enrollments failed with "database is locked". Begun IMMEDIATE, a transaction waits
 * for the lock like any single statement (busy_timeout). `.deferred` stays available.
 */
function immediateTransactions (db: Db): void {
  const make = db.transaction.bind(db)
  db.transaction = ((fn: (...args: unknown[]) => unknown) => make(fn).immediate) as Db['transaction']
}

/**
 * Makes `db.prepare` return a cached statement for SQL it has seen: every store
 * area writes `db.prepare(sql).get(…)` inline, and compiling the SQL each time was a
 * measurable part of ingest and API time. A statement still busy iterating is not
 * shared; the cache is bounded (the SQL texts are a finite set, but stay safe).
 */
function cacheStatements (db: Db): void {
  const cache = new Map<string, Database.Statement>()
  const prepare = db.prepare.bind(db)
  db.prepare = ((sql: string) => {
    const hit = cache.get(sql)
    if (hit !== undefined && !hit.busy) return hit
    const stmt = prepare(sql)
    if (hit === undefined) {
      if (cache.size >= 1000) cache.clear()
      cache.set(sql, stmt)
    }
    return stmt
  }) as typeof db.prepare
}

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
