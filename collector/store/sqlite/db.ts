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
 * Agent identity (collector/store/sqlite/registry.ts): an agent is 'active',
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

export interface OpenDbOptions {
  /**
   * Run `PRAGMA quick_check` at open when the database file is at most this many
   * bytes (0 = never). It reads every page: ~20 ms per MiB measured on a loaded
   * 2-core machine (4.7 s for 229 MiB), so larger databases skip it, with a log line.
   */
  integrityCheckMaxBytes?: number
  /** log lines about the files (modes tightened, integrity): level and message */
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void
}

/** What the integrity check at open found; /readyz reports it. */
export interface IntegrityResult {
  /** 'ok', 'failed' (the collector serves but is not ready), 'skipped' (over the size bound or disabled) */
  state: 'ok' | 'failed' | 'skipped'
  /** the first problems quick_check reported, or why the check was skipped */
  detail?: string
  /** database file size checked, bytes */
  sizeBytes: number
  durationMs: number
}

const integrity = new WeakMap<Db, IntegrityResult>()

/** The integrity check result of a database opened by {@link openDb} with a size bound. */
export function integrityOf (db: Db): IntegrityResult | undefined { return integrity.get(db) }

/** An error opening the database; the message names the file, `code` is SQLite's (SQLITE_NOTADB, SQLITE_CANTOPEN…). */
export class DbOpenError extends Error {
  readonly code: string
  readonly file: string
  constructor (file: string, err: unknown) {
    const code = (err as { code?: string }).code ?? 'error'
    const hint = code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')
      ? 'the file is damaged or not a SQLite database: restore it from a backup, or move it aside (with its -wal and -shm files) to start empty'
      : code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EPERM'
        ? 'check that the data folder exists and belongs to the user running the collector'
        : code === 'SQLITE_FULL' || code === 'ENOSPC' ? 'free space on the disk of the data folder' : undefined
    super(`cannot open the database ${file} (${code}: ${(err as Error).message})${hint !== undefined ? `; ${hint}` : ''}`, { cause: err })
    this.name = 'DbOpenError'
    this.code = code
    this.file = file
  }
}

/** The data folder 0700 and the database files 0600: they hold the fleet's data and webhook secrets. */
function secureFiles (file: string, log: OpenDbOptions['log']): void {
  const dir = path.dirname(file)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = fs.statSync(dir)
  const uid = process.getuid?.()
  if ((st.mode & 0o077) !== 0) {
    // Never tighten a shared folder (sticky, such as /tmp) or one of another user.
    if ((st.mode & 0o1000) !== 0 || (uid !== undefined && st.uid !== uid)) {
      log?.('warn', `data folder ${dir} is shared (mode ${(st.mode & 0o7777).toString(8)}); give the collector a folder of its own`, { dir })
    } else {
      fs.chmodSync(dir, 0o700)
      log?.('info', `data folder ${dir}: mode tightened from ${(st.mode & 0o777).toString(8)} to 700`, { dir })
    }
  }
  // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the database's mode.
  fs.closeSync(fs.openSync(file, 'a', 0o600))
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    let mode: number
    try { mode = fs.statSync(f).mode } catch { continue }
    if ((mode & 0o077) !== 0) {
      fs.chmodSync(f, 0o600)
      log?.('info', `${f}: mode tightened from ${(mode & 0o777).toString(8)} to 600`, { file: f })
    }
  }
}

function checkIntegrity (db: Db, file: string, maxBytes: number, log: OpenDbOptions['log']): IntegrityResult {
  const sizeBytes = fs.statSync(file).size + (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0)
  if (maxBytes <= 0 || sizeBytes > maxBytes) {
    const detail = maxBytes <= 0
      ? 'integrity check disabled (VIGIE_INTEGRITY_CHECK_MAX_MB=0)'
      : `database ${(sizeBytes / 1048576).toFixed(0)} MiB is over VIGIE_INTEGRITY_CHECK_MAX_MB (${(maxBytes / 1048576).toFixed(0)} MiB); run PRAGMA quick_check offline`
    log?.('info', `${file}: ${detail}`, { file })
    return { state: 'skipped', detail, sizeBytes, durationMs: 0 }
  }
  const t0 = performance.now()
  let rows: string[]
  try {
    rows = (db.pragma('quick_check(10)') as Array<{ quick_check: string }>).map(r => r.quick_check)
  } catch (err) {
    rows = [`${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`]
  }
  const durationMs = Math.round(performance.now() - t0)
  if (rows.length === 1 && rows[0] === 'ok') {
    log?.('info', `${file}: integrity check passed in ${durationMs} ms`, { file, durationMs, sizeBytes })
    return { state: 'ok', sizeBytes, durationMs }
  }
  const detail = rows.join('; ').slice(0, 500)
  log?.('error', `${file} FAILED its integrity check: ${detail}. The collector serves but reports not ready; back it up and restore or recover it (sqlite3 vigie.db .recover)`, { file, durationMs })
  return { state: 'failed', detail, sizeBytes, durationMs }
}

/**
 * Opens (creating if needed) `<dataDir>/vigie.db`, or an in-memory database for ':memory:'.
 * The data folder is made 0700 and the database files 0600 (existing ones tightened,
 * with a log line). An error opening names the file ({@link DbOpenError}).
 */
export function openDb (file: string, opts: OpenDbOptions = {}): Db {
  let db: Db | undefined
  try {
    if (file !== ':memory:') secureFiles(file, opts.log)
    db = new Database(file)
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
    if (file !== ':memory:' && opts.integrityCheckMaxBytes !== undefined) {
      integrity.set(db, checkIntegrity(db, file, opts.integrityCheckMaxBytes, opts.log))
    }
    cacheStatements(db)
    immediateTransactions(db)
    migrate(db)
    migrate(db, { name: 'agent-identity', sql: AGENT_IDENTITY_MIGRATIONS })
    migrate(db, { name: 'inventory_history', sql: INVENTORY_HISTORY_MIGRATIONS })
    return db
  } catch (err) {
    if (db?.open === true) db.close()
    if (err instanceof DbOpenError) throw err
    throw new DbOpenError(file, err)
  }
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
