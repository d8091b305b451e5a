/**
 * Child process for the crash test: adds reports to a spool as fast as it can
 * and prints each seq once `add` has returned (i.e. once it is durable).
 * Run: node --import tsx spool-writer.ts <dir>
 */
import { Spool } from '../../../agent/spool.js'
import { fakeReport } from './reports.js'

const spool = new Spool({ dir: process.argv[2], maxBytes: 1024 ** 3, maxAgeMs: 10 * 365 * 86_400_000 })
let seq = spool.maxSeq
for (;;) {
  seq++
  spool.add(fakeReport(seq, 2000))
  process.stdout.write(`${seq}\n`)
}
