/**
 * Child process for the crash test: adds reports to a spool as fast as it can
 * and prints each seq once `add` has returned (i.e. once it is durable).
 * Run: node --import tsx spool-writer.ts <dir>
 */
import { Spool } from '../../../agent/spool.js'
import { fakeReport } from './reports.js'

const dir = process.argv[2]
// `tap test/` also runs helper files: without a folder argument this is not the crash test, so do nothing.
if (dir === undefined || dir.startsWith('-')) {
  process.stdout.write('1..0 # SKIP helper process for spool.test.ts\n')
} else {
  const spool = new Spool({ dir, maxBytes: 1024 ** 3, maxAgeMs: 10 * 365 * 86_400_000 })
  let seq = spool.maxSeq
  for (;;) {
    seq++
    spool.add(fakeReport(seq, 2000))
    process.stdout.write(`${seq}\n`)
  }
}
