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
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Db } from './db.js'

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 5000')
db.pragma('synchronous = NORMAL')
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
  } catch (err) { parentPort.postMessage({ warn: String(err && err.message) }) }
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

export interface Checkpointer {
  stop: () => Promise<void>
}

export function startCheckpointer (db: Db, file: string, opts: { everyMs?: number, restartFrames?: number, onWarn?: (message: string) => void } = {}): Checkpointer {
  if (file === ':memory:') return { stop: async () => {} }
  const autocheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), file, everyMs: opts.everyMs ?? 1000, restartFrames: opts.restartFrames ?? (autocheckpoint > 0 ? autocheckpoint : 16_384) }
  })
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped = false
  const fallBack = (why: string): void => {
    if (stopped) return
    stopped = true
    opts.onWarn?.(`background checkpoints stopped (${why}); the collector checkpoints itself again`)
    if (db.open) db.pragma(`wal_autocheckpoint = ${autocheckpoint}`)
  }
  worker.on('message', (m: { warn?: string }) => { if (m.warn !== undefined) opts.onWarn?.(`background checkpoint: ${m.warn}`) })
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
