/**
 * Background WAL checkpoints: the collector's own connection never checkpoints
 * (no copy and fsync stalls in the event loop), yet committed pages reach the
 * database file and the write-ahead log is reused instead of growing.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { startCheckpointer } from '../../../collector/store/sqlite/checkpointer.js'
import { waitFor } from '../../helpers/wait.js'
import { tempDir } from '../../helpers/temp.js'

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => { await waitFor(() => ok(), { what, timeoutMs: ms, intervalMs: 20 }) }

/** A database file in a folder removed after the test. */
function tempDb (t: Test): { file: string, db: ReturnType<typeof openDb> } {
  const dir = tempDir(t, 'vigie-ckpt-')
  const file = path.join(dir, 'vigie.db')
  return { file, db: openDb(file) }
}

t.test('committed pages reach the database file from the background thread; the WAL is reused, not grown', async t => {
  const { file, db } = tempDb(t)
  const before = db.pragma('wal_autocheckpoint', { simple: true })
  const warnings: string[] = []
  const cp = startCheckpointer(db, file, { everyMs: 50, onWarn: (m) => { warnings.push(m) } })
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, "the collector's connection no longer checkpoints")
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)')
  const ins = db.prepare('INSERT INTO filler (data) VALUES (?)')
  const blob = Buffer.alloc(1000, 7)
  const mainSize = () => fs.statSync(file).size
  const walSize = () => fs.statSync(file + '-wal').size
  const start = mainSize()
  const logicalSize = (): number => (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number)
  for (let round = 0; round < 5; round++) {
    db.transaction(() => { for (let i = 0; i < 2000; i++) ins.run(blob) })()
    // A checkpoint between rounds: the background thread has copied this round's pages
    // (the file reaches the database's size as of this commit), so the next round can
    // start the WAL again instead of appending to it.
    const size = logicalSize()
    await until(`round ${round + 1}'s pages in the database file (${size} bytes)`, () => mainSize() >= size)
  }
  await until('the database file to hold the rows', () => mainSize() > start + 8_000_000)
  // 10 MB were committed in five rounds with checkpoints between: the log was reused.
  t.ok(walSize() < 8_000_000, `the WAL stayed below the data written (${walSize()} bytes)`)
  await cp.stop()
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), before, 'stopping hands checkpoints back to the connection')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM filler').get() as { n: number }).n, 10_000, 'every committed row is there')
  t.same(warnings, [], 'no warning')
  db.close()
})

t.test('under sustained writes, with never a pause between commits, the WAL still starts again instead of growing', async t => {
  const { file, db } = tempDb(t)
  const warnings: string[] = []
  const cp = startCheckpointer(db, file, { everyMs: 20, restartFrames: 500, onWarn: (m) => { warnings.push(m) } })
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)')
  const ins = db.prepare('INSERT INTO filler (data) VALUES (?)')
  const blob = Buffer.alloc(300, 7)
  // A small commit every 0.1 ms for 1.5 s, as under a steady stream of ingest:
  // every commit rewrites the table's last page, so the ~15,000 commits append
  // ~60 MB to the WAL unless it is started again.
  let maxWal = 0
  let commits = 0
  const end = performance.now() + 1500
  let next = performance.now()
  while (next < end) {
    while (performance.now() < next) { /* pace the commits */ }
    ins.run(blob)
    commits++
    next += 0.1
    if (commits % 1000 === 0) maxWal = Math.max(maxWal, fs.statSync(file + '-wal').size)
  }
  t.ok(maxWal < 16_000_000, `the WAL stayed bounded: largest seen ${maxWal} bytes after ${commits} commits (~${Math.round(commits * 4096 / 1e6)} MB if never started again)`)
  await cp.stop()
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM filler').get() as { n: number }).n, commits, 'every committed row is there')
  t.same(warnings, [], 'no warning')
  db.close()
})

t.test('while the WAL is restarted, transactions that read before they write wait for the lock instead of failing', async t => {
  const { file, db } = tempDb(t)
  const cp = startCheckpointer(db, file, { everyMs: 5, restartFrames: 50 })
  db.exec('CREATE TABLE kv (k INTEGER PRIMARY KEY, v BLOB NOT NULL)')
  const read = db.prepare('SELECT COUNT(*) AS n FROM kv')
  const write = db.prepare('INSERT INTO kv (v) VALUES (?)')
  const blob = Buffer.alloc(2000, 1)
  // What enrollment does: look something up, then insert, in one transaction.
  const enrollLike = db.transaction(() => { read.get(); write.run(blob) })
  let done = 0
  const failures: string[] = []
  const end = performance.now() + 1500
  while (performance.now() < end) {
    try { enrollLike(); done++ } catch (err) { failures.push((err as Error).message) }
    if (done % 200 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  await cp.stop()
  t.same(failures.slice(0, 3), [], `no transaction failed (${failures.length} of ${done + failures.length})`)
  t.equal((read.get() as { n: number }).n, done, 'every committed row is there')
  db.close()
})

t.test('an in-memory database needs no checkpoints', async t => {
  const db = openDb(':memory:')
  const cp = startCheckpointer(db, ':memory:')
  await cp.stop()
  t.equal((db.prepare('SELECT 1 AS one').get() as { one: number }).one, 1)
  db.close()
})

t.test('a checkpoint that fails (the file may not grow) warns naming the database file and its code, once, then once a minute', async t => {
  const dir = tempDir(t, 'vigie-ckpt-')
  const file = path.join(dir, 'vigie.db')
  const helper = path.join(import.meta.dirname, 'helpers', 'checkpoint-file-limit.ts')
  // 1200 KiB per file for this process: SQLite's writes past it fail (EFBIG) instead of killing it (SIGXFSZ
  // ignored). Without the test runner's preload (NODE_OPTIONS), which catches SIGXFSZ to re-raise it.
  const child = spawn('bash', ['-c', 'unset NODE_OPTIONS; trap "" XFSZ; ulimit -f 1200; exec "$0" --import tsx "$1" "$2"', process.execPath, helper, file], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | string | null>((resolve) => { child.once('exit', (c, sig) => { resolve(c ?? sig) }) })
  t.equal(code, 0, `the helper ran (${stderr.slice(0, 500)})`)
  const lines = stdout.trim().split('\n').map(l => JSON.parse(l) as { warn?: string, phase?: string, warnings?: number, repeats?: number, rows?: number })
  const warnings = lines.filter(l => l.warn !== undefined).map(l => l.warn!)
  t.ok(warnings.length >= 2, `warnings: ${JSON.stringify(warnings)}`)
  for (const w of warnings) {
    t.ok(w.includes(file), `the warning names the database file: ${w}`)
    t.match(w, /\(SQLITE_IOERR[A-Z_]*\)|\(SQLITE_FULL\)/, 'and the SQLite code')
  }
  t.equal(lines.find(l => l.phase !== undefined)?.warnings, 1, 'thirty failing checkpoints within a minute: one warning')
  t.match(warnings[1], /failed \d+ more times since the last warning/, 'a minute later: one more, counting the repeats')
  const phase = lines.find(l => l.phase !== undefined)
  t.ok((phase?.repeats ?? 0) >= 30 && Number(/failed (\d+) more times/.exec(warnings[1])?.[1]) >= phase!.repeats!,
    `every repeat is counted (${phase?.repeats} seen within the minute; ${warnings[1]})`)
  t.equal(lines.at(-1)?.rows, 1400, 'every committed row is still readable (the WAL holds them)')
})

t.test('when the thread cannot open the database, the warning names the file and the collector checkpoints itself again', async t => {
  const { file, db } = tempDb(t)
  const before = db.pragma('wal_autocheckpoint', { simple: true })
  // The data folder's file moved away after the collector opened it: a second connection cannot open it.
  const moved = file + '.moved'
  fs.renameSync(file, moved)
  const warnings: string[] = []
  const cp = startCheckpointer(db, file, { everyMs: 20, onWarn: (m) => { warnings.push(m) } })
  await until('the fall-back warning', () => warnings.length > 0)
  t.match(warnings[0], /^background checkpoints of .* stopped \(.+\); the collector checkpoints itself again$/)
  t.ok(warnings[0].includes(file), `the warning names the database file: ${warnings[0]}`)
  t.match(warnings[0], /\(SQLITE_CANTOPEN: unable to open database file\)/, 'and why, with the SQLite code')
  t.equal(db.pragma('wal_autocheckpoint', { simple: true }), before, "the collector's connection checkpoints again")
  await cp.stop()
  db.close()
  fs.renameSync(moved, file)
})
