/**
 * Child process for checkpointer.test.ts, run under a file-size limit
 * (`ulimit -f`, SIGXFSZ ignored): commits land in the WAL, within the limit, and
 * the background checkpoint that would grow the database file past it fails.
 * Prints one JSON line per warning, then `{ rows }` once stopped.
 * Run: node --import tsx checkpoint-file-limit.ts <db file>
 */
import { openDb } from '../../../../collector/store/sqlite/db.js'
import { CHECKPOINT_WARN_EVERY_MS, startCheckpointer } from '../../../../collector/store/sqlite/checkpointer.js'
import { waitFor } from '../../../helpers/wait.js'

const file = process.argv[2]
const out = (o: object): void => { process.stdout.write(JSON.stringify(o) + '\n') }
// `tap test/` also runs helper files: without a file argument this is not the test, so do nothing.
if (file === undefined || file.startsWith('-')) {
  process.stdout.write('1..0 # SKIP helper process for checkpointer.test.ts\n')
} else {
  const db = openDb(file)
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL)')
  const ins = db.prepare('INSERT INTO filler (data) VALUES (?)')
  const blob = Buffer.alloc(1000, 7)
  // ~750 kB in the database file, then ~830 kB more in the WAL: copying them would take the file past the limit.
  db.transaction(() => { for (let i = 0; i < 600; i++) ins.run(blob) })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.transaction(() => { for (let i = 0; i < 800; i++) ins.run(blob) })()
  let offsetMs = 0
  // The checkpointer reads its clock once for each failure it is told of (the first
  // one to stamp its warning, every repeat to compare with it): counting the reads
  // counts the failing checkpoints, so the test waits for them rather than for time.
  let clockReads = 0
  const now = (): number => { clockReads++; return Date.now() + offsetMs }
  const warnings: string[] = []
  const cp = startCheckpointer(db, file, { everyMs: 10, now, onWarn: (m) => { warnings.push(m); out({ warn: m }) } })
  await waitFor(() => warnings.length >= 1, { what: 'the first warning', intervalMs: 5 })
  // Thirty more failing checkpoints (every 10 ms) within the minute: no further warning.
  await waitFor(() => clockReads >= 1 + 30, { what: 'thirty more failing checkpoints', intervalMs: 5 })
  out({ phase: 'minute passes', warnings: warnings.length, repeats: clockReads - 1 })
  offsetMs += CHECKPOINT_WARN_EVERY_MS
  await waitFor(() => warnings.length >= 2, { what: 'the warning a minute later', intervalMs: 5 })
  await cp.stop()
  out({ rows: (db.prepare('SELECT COUNT(*) AS n FROM filler').get() as { n: number }).n })
  db.close()
}
