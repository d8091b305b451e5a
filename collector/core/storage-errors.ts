/**
 * Storage failures (SQLite result codes, file-system errno) in words an operator
 * can act on, naming the file. The HTTP error handler (collector/core/http-errors.ts)
 * answers them with 503 VIGIE_ERR_STORE_UNAVAILABLE and Retry-After on every
 * route; the body names the file by its name only (`vigie.db`), the log by its
 * full path.
 */
import path from 'node:path'

export interface StorageFailure {
  /** SQLite result code or errno, e.g. SQLITE_FULL, SQLITE_IOERR_WRITE, ENOSPC */
  code: string
  /** what happened, for people: "the collector disk is full" */
  why: string
}

/** Classifies an error thrown by the database or the file system; undefined when it is not a storage failure. */
export function storageFailure (err: unknown): StorageFailure | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return undefined
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return { code, why: 'the collector disk is full' }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return { code, why: 'the database is read-only (file or folder permissions, or a read-only file system)' }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return { code, why: 'the disk failed a read or write (I/O error)' }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return { code, why: 'the database file is damaged' }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code === 'EACCES' || code === 'EPERM') return { code, why: 'the database file cannot be opened (permissions or a missing folder)' }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_PROTOCOL') return { code, why: 'the database is locked by another process' }
  return undefined
}

/** `the collector disk is full: the collector's database (vigie.db) failed (SQLITE_FULL); …`; `file` is shown by its name only. */
export function storageMessage (f: StorageFailure, file: string): string {
  return `${f.why}: the collector's database (${path.basename(file)}) failed (${f.code}); the request was not completed, retry later`
}
