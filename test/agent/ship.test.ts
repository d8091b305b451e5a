/**
 * The shipping policy alone, on fake timers: a real spool and state file in a
 * temp folder, and a scripted sender standing in for the collector's answers
 * (the real transport against real servers is in delivery.test.ts, outage.test.ts
 * and the e2e tests). What a user would notice: when the agent tries again,
 * what it keeps, what it drops and counts, and that it never resends what was
 * acknowledged.
 */
import path from 'node:path'
import t from 'tap'
import type { BatchAck, Report } from '../../protocol/index.js'
import { MAX_BATCH, REFUSED_RECHECK_MS, Shipper, type Sender } from '../../agent/ship.js'
import { backoffMs, retryAfterMs } from '../../agent/backoff.js'
import { Spool } from '../../agent/spool.js'
import { readState, StateKeeper } from '../../agent/state.js'
import { SendError } from '../../agent/transport.js'
import { fakeClock } from './helpers/fake-clock.js'
import { fakeReport } from './helpers/reports.js'
import { memoryLogger } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

const START = Date.parse('2026-01-01T00:10:00.000Z')
type Answer = BatchAck | SendError | ((batch: Report[]) => BatchAck | SendError)
const stored = (batch: Report[]): BatchAck => ({ stored: batch.map(r => r.seq), duplicates: [], serverTime: '' })

/** A shipper over a real spool of `reports` reports, answering from `script` in order, then storing everything. */
function setup (t: { teardown: (fn: () => unknown) => void }, reports: number, script: Answer[], opts: { rotationDue?: boolean } = {}) {
  const dir = tempDir(t, 'vigie-ship-')
  const clock = fakeClock(START)
  t.teardown(() => { clock.restore() })
  const spool = new Spool({ dir: path.join(dir, 'spool'), maxBytes: 1e9, maxAgeMs: 1e12 })
  for (let i = 1; i <= reports; i++) spool.add(fakeReport(i, 2))
  const { log, lines } = memoryLogger()
  const state = new StateKeeper(dir, log)
  state.current = { collectorUrl: 'http://127.0.0.1:9', agentId: 'm_test', agentToken: 'vga_old', nextSeq: reports + 1, droppedReports: 0 }
  state.save()
  const sends: Array<{ atMs: number, seqs: number[] }> = []
  const calls: string[] = []
  let rotationDue = opts.rotationDue ?? false
  const sender: Sender = {
    send: async batch => {
      sends.push({ atMs: Date.now() - START, seqs: batch.map(r => r.seq) })
      const next = script.shift() ?? stored
      const answer = typeof next === 'function' ? next(batch) : next
      if (answer instanceof SendError) throw answer
      return answer
    },
    rotate: async () => {
      calls.push(`rotate (state file holds ${readState(dir)?.agentToken ?? '?'})`)
      rotationDue = false
      return { agentId: 'm_test', agentToken: 'vga_new', previousTokenValidUntil: '2026-01-02T00:00:00Z' }
    },
    setToken: token => { calls.push(`setToken ${token} (state file holds ${readState(dir)?.agentToken ?? '?'})`) },
    get rotationDue () { return rotationDue },
    close: () => { calls.push('close') }
  }
  const shipper = new Shipper({ spool, sender, state, log, now: () => Date.now(), intervalSec: 30, random: () => 0 })
  t.teardown(() => shipper.stop())
  return { dir, clock, spool, state, shipper, sends, calls, lines }
}

t.test('unreachable: retries after 0.5, 1, 2, 4 s (backoff with jitter), then delivers and arms nothing more', async t => {
  const down = (): SendError => new SendError('network', 'connect ECONNREFUSED 127.0.0.1:9')
  const s = setup(t, 3, [down(), down(), down(), down()])
  await s.shipper.flush()
  await s.clock.advance(20_000, 500)
  t.same(s.sends.map(x => x.atMs), [0, 500, 1500, 3500, 7500], 'each wait doubles (random() = 0: the lower half of each step)')
  t.same(s.sends.at(-1)!.seqs, [1, 2, 3], 'the whole backlog, oldest first')
  t.equal(s.spool.count, 0, 'acknowledged reports leave the spool')
  t.equal(s.lines.filter(l => l.msg === 'collector unreachable; will retry').length, 4)
  const n = s.sends.length
  await s.clock.advance(60_000, 1000)
  t.equal(s.sends.length, n, 'an empty spool arms no retry: an idle agent wakes only to collect')
  t.same([backoffMs(0, () => 1), backoffMs(8, () => 0), backoffMs(8, () => 1), backoffMs(30, () => 1)], [1000, 128_000, 256_000, 300_000], 'the steps, capped at 5 min')
})

t.test('busy: the collector\'s Retry-After is honoured to the millisecond, then the backlog goes', async t => {
  const s = setup(t, 2, [new SendError('busy', '503 VIGIE_ERR_STORE_UNAVAILABLE', { retryAfterMs: 2000, statusCode: 503 }), new SendError('busy', '429', { retryAfterMs: 1000, statusCode: 429 })])
  await s.shipper.flush()
  await s.clock.advance(1999)
  t.equal(s.sends.length, 1, 'nothing before Retry-After: 2 is over')
  await s.clock.advance(1)
  t.equal(s.sends.length, 2, 'and the next try at 2000 ms')
  await s.clock.advance(1000)
  t.same(s.sends.map(x => x.atMs), [0, 2000, 3000])
  t.equal(s.spool.count, 0)
  t.equal(retryAfterMs(7_200_000), 3_600_000, 'a Retry-After of two hours waits one')
})

t.test('busy without Retry-After backs off as for an outage', async t => {
  const s = setup(t, 1, [new SendError('busy', '503')])
  await s.shipper.flush()
  await s.clock.advance(1000)
  t.same(s.sends.map(x => x.atMs), [0, 500])
})

t.test('too large: the batch is halved down to one report; one still too large is dropped and counted', async t => {
  const tooLarge = (): SendError => new SendError('too-large', '413 VIGIE_ERR_BODY_TOO_LARGE', { statusCode: 413 })
  const s = setup(t, 4, [tooLarge(), tooLarge(), tooLarge()])
  await s.shipper.flush()
  await s.clock.advance(5000, 250)
  t.same(s.sends.map(x => x.seqs), [[1, 2, 3, 4], [1, 2], [1], [2], [3, 4]], 'halved to one, report 1 dropped, then the batch grows back')
  t.same(s.sends.map(x => x.atMs), [0, 250, 500, 750, 750], 'each smaller batch a quarter second later')
  t.equal(s.spool.count, 0)
  t.equal(s.state.current?.droppedReports, 1, 'the dropped report is counted')
  t.equal(readState(s.dir)?.droppedReports, 1, 'and the count is on disk')
  t.ok(s.lines.some(l => l.msg === 'report too large for the collector; dropping it' && l.seq === 1))
})

t.test('rejected for good: the report the error points at is dropped and counted, the rest delivered', async t => {
  const s = setup(t, 3, [new SendError('rejected', '409 VIGIE_ERR_SEQ_CONFLICT', { statusCode: 409, code: 'VIGIE_ERR_SEQ_CONFLICT', path: '/reports/1/seq' })])
  await s.shipper.flush()
  await s.clock.advance(1000)
  t.same(s.sends.map(x => x.seqs), [[1, 2, 3], [1, 3]], 'seq 2 (/reports/1) dropped; 1 and 3 resent at once')
  t.equal(s.spool.count, 0)
  t.equal(s.state.current?.droppedReports, 1)
})

t.test('pending approval: everything is kept and asked again each half interval; approval sends the spool', async t => {
  const pending = (): SendError => new SendError('forbidden', '403 VIGIE_ERR_AGENT_PENDING', { statusCode: 403, code: 'VIGIE_ERR_AGENT_PENDING' })
  const s = setup(t, 2, [pending(), pending(), pending()])
  await s.shipper.flush()
  t.equal(readState(s.dir)?.pending, true, 'pending is on disk (doctor and status show it)')
  await s.clock.advance(45_000, 1000)
  t.same(s.sends.map(x => x.atMs), [0, 15_000, 30_000, 45_000], 'asked again every 15 s at a 30 s interval')
  t.equal(s.spool.count, 0, 'approved: the spool went')
  t.equal(s.state.current?.droppedReports, 0, 'nothing was dropped while pending')
  t.equal(s.lines.filter(l => /awaits an admin's approval/.test(String(l.msg))).length, 1, 'said once, not at every try')
  t.ok(s.lines.some(l => l.msg === 'this machine was approved by an admin; sending its spool'))
  t.equal(readState(s.dir)?.pending, undefined)
})

t.test('token refused: nothing more is sent but one report an hour; reinstated, the spool goes', async t => {
  const s = setup(t, 3, [new SendError('unauthorized', '401 VIGIE_ERR_AGENT_REVOKED', { statusCode: 401, code: 'VIGIE_ERR_AGENT_REVOKED' }), new SendError('unauthorized', '401')])
  await s.shipper.flush()
  t.match(readState(s.dir)?.refused, { atMs: START, code: 'VIGIE_ERR_AGENT_REVOKED' }, 'refused is on disk, with the collector\'s code')
  t.ok(s.calls.includes('close'), 'the stream is closed')
  t.notOk(s.shipper.retryDue(), 'no send is due before the hourly check')
  await s.clock.advance(REFUSED_RECHECK_MS - 1, 60_000)
  t.equal(s.sends.length, 1, 'nothing in the hour')
  await s.clock.advance(1)
  t.same(s.sends.map(x => x.seqs), [[1, 2, 3], [1]], 'the hourly check is one report')
  t.ok(s.lines.some(l => l.msg === 'still refused by the collector; sending nothing'))
  await s.clock.advance(REFUSED_RECHECK_MS, 60_000)
  t.same(s.sends.map(x => x.seqs), [[1, 2, 3], [1], [1], [2, 3]], 'reinstated: the check is stored, then the rest')
  t.equal(readState(s.dir)?.refused, undefined)
  t.equal(s.spool.count, 0)
  t.equal(s.state.current?.droppedReports, 0, 'nothing dropped while refused')
})

t.test('a rotation the collector asks for: the new token is on disk before it is used', async t => {
  const s = setup(t, 1, [], { rotationDue: true })
  await s.shipper.flush()
  t.same(s.calls, ['rotate (state file holds vga_old)', 'setToken vga_new (state file holds vga_new)'])
  t.equal(s.sends.length, 1)
  t.ok(s.lines.some(l => l.msg === 'agent token rotated'))
})

t.test('stopped: no retry fires afterwards, and the sender is closed', async t => {
  const s = setup(t, 1, [new SendError('network', 'down')])
  await s.shipper.flush()
  await s.shipper.stop()
  await s.clock.advance(600_000, 1000)
  t.equal(s.sends.length, 1)
  t.equal(s.spool.count, 1, 'the report stays in the spool for the next start')
  t.ok(s.calls.includes('close'))
  t.equal(MAX_BATCH, 100)
})
