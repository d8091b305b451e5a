/**
 * The database's files: their modes (the data folder 0700, the files 0600), the
 * integrity check at open, and the error that names the file when opening fails.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Db } from './db.js'

/** log lines about the files (modes tightened, integrity): level and message */
export type DbLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void

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
export function secureFiles (file: string, log: DbLog | undefined): void {
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

export function checkIntegrity (db: Db, file: string, maxBytes: number, log: DbLog | undefined): IntegrityResult {
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
