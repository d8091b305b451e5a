/**
 * The spool survives a crash mid-write (SIGKILL of a real writer process),
 * skips torn records without failing, and stays within its size and age
 * bounds by dropping the oldest reports, which it counts.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Spool, type DropReason } from '../../agent/spool.js'
import { fakeReport, intact } from './helpers/reports.js'
import { waitFor } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'


t.test('a writer killed with SIGKILL mid-write leaves every completed report intact', async t => {
  const dir = tempDir(t, 'vigie-spool-')
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'helpers', 'spool-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await waitFor('the writer to complete 40 reports', () => out.split('\n').filter(l => l !== '').length >= 40, 30_000, 20)
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  const completed = out.split('\n').filter(l => l !== '').map(Number)
  const drops: Array<[number, DropReason]> = []
  const spool = new Spool({ dir, maxBytes: 1024 ** 3, maxAgeMs: 10 * 365 * 86_400_000, onDrop: (n, r) => { drops.push([n, r]) } })
  const all = spool.oldest(Number.MAX_SAFE_INTEGER)
  const bySeq = new Map(all.map(r => [r.seq, r]))
  for (const seq of completed) t.ok(bySeq.has(seq) && intact(bySeq.get(seq)!, seq, 2000), `report ${seq} intact`)
  t.same(all.map(r => r.seq), [...all.map(r => r.seq)].sort((a, b) => a - b), 'oldest first')
  t.ok(all.length <= completed.length + 1, 'at most the one report being written when killed is extra (it was complete on disk)')
  t.same(fs.readdirSync(dir).filter(f => f.endsWith('.tmp')), [], 'the half-written temp file was cleaned up')
  t.same(drops, [], 'nothing completed was lost')
})

t.test('a torn or empty record is skipped and counted, never fatal', async t => {
  const dir = tempDir(t, 'vigie-spool-')
  const s1 = new Spool({ dir, maxBytes: 1e9, maxAgeMs: 1e12 })
  for (let i = 1; i <= 5; i++) s1.add(fakeReport(i))
  const third = path.join(dir, '0000000000000003.json')
  fs.writeFileSync(third, fs.readFileSync(third, 'utf8').slice(0, 100))
  fs.writeFileSync(path.join(dir, '0000000000000004.json'), '')
  fs.writeFileSync(path.join(dir, '0000000000000006.json.tmp'), '{"v":1,')
  const drops: Array<[number, DropReason]> = []
  const s2 = new Spool({ dir, maxBytes: 1e9, maxAgeMs: 1e12, onDrop: (n, r) => { drops.push([n, r]) } })
  t.same(s2.oldest(100).map(r => r.seq), [1, 2, 5])
  t.same(drops, [[2, 'damaged']])
  t.equal(s2.maxSeq, 5)
})

t.test('past its size bound the spool drops the oldest reports and counts them', async t => {
  const dir = tempDir(t, 'vigie-spool-')
  const one = Buffer.byteLength(JSON.stringify(fakeReport(10)))
  let dropped = 0
  const s = new Spool({ dir, maxBytes: one * 10, maxAgeMs: 1e12, onDrop: (n, r) => { if (r === 'size') dropped += n } })
  for (let i = 1; i <= 50; i++) s.add(fakeReport(i))
  t.ok(s.bytes <= one * 10 + 100, `${s.bytes} bytes kept`)
  t.equal(s.count + dropped, 50, 'every report is either kept or counted as dropped')
  const kept = s.oldest(100).map(r => r.seq)
  t.same(kept, Array.from({ length: kept.length }, (_, i) => 51 - kept.length + i), 'the newest are kept, in order')
  t.equal(fs.readdirSync(dir).length, s.count, 'dropped files are gone from disk')
})

t.test('reports older than the age bound are dropped and counted', async t => {
  const dir = tempDir(t, 'vigie-spool-')
  let now = Date.parse('2026-01-01T00:00:00Z')
  const drops: Array<[number, DropReason]> = []
  const s = new Spool({ dir, maxBytes: 1e9, maxAgeMs: 3_600_000, now: () => now, onDrop: (n, r) => { drops.push([n, r]) } })
  for (let i = 1; i <= 10; i++) s.add(fakeReport(i, 1, now - (10 - i) * 600_000))
  t.equal(drops.filter(([, r]) => r === 'age').reduce((n, [c]) => n + c, 0), 3, 'reports sampled more than an hour ago: 1, 2, 3 (the 4th is exactly at the cutoff)')
  t.same(s.oldest(100).map(r => r.seq), [4, 5, 6, 7, 8, 9, 10])
  now += 3_600_000
  s.enforceBounds()
  t.equal(s.count, 1)
})

t.test('an acknowledged report is gone for good, also after a restart', async t => {
  const dir = tempDir(t, 'vigie-spool-')
  const s = new Spool({ dir, maxBytes: 1e9, maxAgeMs: 1e12 })
  for (let i = 1; i <= 6; i++) s.add(fakeReport(i))
  s.ack([1, 2, 4])
  t.same(s.oldest(10).map(r => r.seq), [3, 5, 6])
  const again = new Spool({ dir, maxBytes: 1e9, maxAgeMs: 1e12 })
  t.same(again.oldest(10).map(r => r.seq), [3, 5, 6])
  t.same(again.oldest(2).map(r => r.seq), [3, 5], 'batches are bounded, oldest first')
})
