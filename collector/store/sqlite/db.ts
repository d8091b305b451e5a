/**
 * Opens the embedded SQLite database (WAL) and brings its schema up to date:
 * pragmas, the statement cache and IMMEDIATE transactions here; the schema in
 * migrations.ts; file modes and the integrity check in db-files.ts.
 * Only files under collector/store/sqlite/ import better-sqlite3.
 */
import Database from 'better-sqlite3'
import { DbOpenError, checkIntegrity, secureFiles, type DbLog, type IntegrityResult } from './db-files.js'
import { AGENT_IDENTITY_MIGRATIONS, INVENTORY_HISTORY_MIGRATIONS, migrate } from './migrations.js'

export type Db = Database.Database

export { DbOpenError, type IntegrityResult } from './db-files.js'
export { AGENT_IDENTITY_MIGRATIONS, LEDGER_MIGRATIONS, migrate } from './migrations.js'

export interface OpenDbOptions {
  /**
   * Run `PRAGMA quick_check` at open when the database file is at most this many
   * bytes (0 = never). It reads every page: ~20 ms per MiB measured on a loaded
   * 2-core machine (4.7 s for 229 MiB), so larger databases skip it, with a log line.
   */
  integrityCheckMaxBytes?: number
  /** log lines about the files (modes tightened, integrity): level and message */
  log?: DbLog
}

const integrity = new WeakMap<Db, IntegrityResult>()

/** The integrity check result of a database opened by {@link openDb} with a size bound. */
export function integrityOf (db: Db): IntegrityResult | undefined { return integrity.get(db) }

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
