/**
 * WAL checkpoints in a background thread.
 *
 * In WAL mode every commit appends pages to the write-ahead log; a checkpoint
 * copies them into the database file and fsyncs it. SQLite runs checkpoints
 * inside the commit that crosses `wal_autocheckpoint`, so under load the
 * collector's event loop regularly stopped for the copy and the fsync of tens of
 * megabytes. Here a second connection, in its own thread, runs a PASSIVE
 * checkpoint every `everyMs` (never waiting for readers or the writer), followed
 * by a brief RESTART when the WAL has grown past `restartFrames` pages (by default
 * the connection's own `wal_autocheckpoint`, 64 MiB; see below),
 * and the collector's connection does none itself. Durability is unchanged: commits are
 * in the WAL either way. If the thread fails, the collector's connection goes back
 * to checkpointing itself.
 *
 * Every warning names the database file (as every storage error does) and the
 * SQLite code; a failure that repeats (a full disk fails every checkpoint) is
 * logged once, then at most once a minute with how often it recurred, not every
 * second.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Db } from './db.js'
import { storageFailure } from '../../core/storage-errors.js'

/** A checkpoint failure that repeats is logged again at most this often. */
export const CHECKPOINT_WARN_EVERY_MS = 60_000

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const describe = (err) => ({ message: String(err && err.message), code: err && typeof err.code === 'string' ? err.code : undefined })
let db
try {
  db = new Database(workerData.file, { fileMustExist: true })
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
} catch (err) {
  // A SqliteError loses its message on the way to the parent as an 'error' event: say it here.
  parentPort.postMessage({ fatal: describe(err) })
  process.exit(1)
}
// A PASSIVE checkpoint never waits: it copies the frames committed before it
// started. But SQLite starts the WAL again from its beginning only when a write
// begins with every frame already copied, and under sustained ingest a commit
// always lands between the end of a checkpoint and the next write: the WAL grew
// without bound (~35 MB/s in the ingest benchmark). So once the WAL holds more
// than restartFrames, the copy is followed by a RESTART checkpoint, which holds
// the next write back (its busy handler waits) while the few frames committed
// meanwhile are copied, and starts the WAL again.
const run = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0]
    if (r.busy === 0 && r.log > workerData.restartFrames) {
      db.pragma('wal_checkpoint(RESTART)')
    }
  } catch (err) { parentPort.postMessage({ warn: describe(err) }) }
}
const timer = setInterval(run, workerData.everyMs)
parentPort.on('message', (m) => {
  if (m !== 'stop') return
  clearInterval(timer)
  run()
  db.close()
  parentPort.postMessage({ stopped: true })
})
`

interface WorkerError { message: string, code?: string }

export interface Checkpointer {
  stop: () => Promise<void>
}

export function startCheckpointer (db: Db, file: string, opts: { everyMs?: number, restartFrames?: number, onWarn?: (message: string) => void, now?: () => number } = {}): Checkpointer {
  if (file === ':memory:') return { stop: async () => {} }
  const autocheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, everyMs: opts.everyMs ?? 1000, restartFrames: opts.restartFrames ?? (autocheckpoint > 0 ? autocheckpoint : 16_384) }
  })
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped = false
  const now = opts.now ?? Date.now
  const fallBack = (why: string): void => {
    if (stopped) return
    stopped = true
    opts.onWarn?.(`background checkpoints of ${file} stopped (${why}); the collector checkpoints itself again`)
    if (db.open) db.pragma(`wal_autocheckpoint = ${autocheckpoint}`)
  }
  let last: { text: string, atMs: number, repeats: number } | undefined
  const onFailure = (message: string, code: string | undefined): void => {
    const f = storageFailure({ code })
    const text = `background checkpoint of ${file} failed${code !== undefined ? ` (${code})` : ''}: ${f?.why ?? message}; commits stay safe in ${file}-wal and are copied once a checkpoint succeeds`
    if (last !== undefined && last.text === text && now() - last.atMs < CHECKPOINT_WARN_EVERY_MS) { last.repeats++; return }
    const repeats = last?.text === text ? last.repeats : 0
    last = { text, atMs: now(), repeats: 0 }
    opts.onWarn?.(repeats > 0 ? `${text} (failed ${repeats} more times since the last warning)` : text)
  }
  worker.on('message', (m: { warn?: WorkerError, fatal?: WorkerError }) => {
    if (m.warn !== undefined) onFailure(m.warn.message, m.warn.code)
    if (m.fatal !== undefined) fallBack(`${m.fatal.code !== undefined ? `${m.fatal.code}: ` : ''}${m.fatal.message}`)
  })
  worker.on('error', (err) => { fallBack(err.message) })
  worker.on('exit', (code) => { fallBack(`thread exited with ${code}`) })
  return {
    stop: async () => {
      if (stopped) return
      stopped = true
      const done = new Promise<void>((resolve) => {
        worker.on('message', (m: { stopped?: boolean }) => { if (m.stopped === true) resolve() })
        worker.on('exit', () => { resolve() })
      })
      worker.postMessage('stop')
      await done
      await worker.terminate()
      if (db.open) db.pragma(`wal_autocheckpoint = ${autocheckpoint}`)
    }
  }
}
