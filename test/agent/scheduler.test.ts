import t from 'tap'
import { cronFor, every, nextSlot } from '../../agent/scheduler.js'
import { fakeClock } from './helpers/fake-clock.js'

t.test('slots fall on the wall-clock grid a cron expression would use', async t => {
  const at = (iso: string): number => Date.parse(iso)
  t.equal(nextSlot(at('2024-05-01T10:00:12.345Z'), 30_000), at('2024-05-01T10:00:30Z'))
  t.equal(nextSlot(at('2024-05-01T10:00:30Z'), 30_000), at('2024-05-01T10:01:00Z'), 'strictly after')
  t.equal(nextSlot(at('2024-05-01T10:00:00.999Z'), 1000), at('2024-05-01T10:00:01Z'))
  // Periods that divide a minute ignore the zone; longer ones follow the local clock.
  t.equal(nextSlot(at('2024-05-01T10:00:12Z'), 15_000, () => { throw new Error('not asked') }), at('2024-05-01T10:00:15Z'))
  t.equal(nextSlot(at('2024-05-01T10:07:00Z'), 600_000, () => 0), at('2024-05-01T10:10:00Z'))
  t.equal(nextSlot(at('2024-05-01T10:07:00Z'), 3_600_000, () => 0), at('2024-05-01T11:00:00Z'))
  // India, UTC+5:30 (getTimezoneOffset −330): the top of the local hour is at :30 UTC.
  t.equal(nextSlot(at('2024-05-01T10:07:00Z'), 3_600_000, () => -330), at('2024-05-01T10:30:00Z'))
  // Nepal, UTC+5:45: every 10 local minutes is at :05, :15, … UTC.
  t.equal(nextSlot(at('2024-05-01T10:07:00Z'), 600_000, () => -345), at('2024-05-01T10:15:00Z'))
  t.equal(nextSlot(at('2024-05-01T10:07:00Z'), 300_000, () => 240), at('2024-05-01T10:10:00Z'), 'a negative zone (UTC−4)')
})

t.test('cronFor still refuses intervals that do not divide a minute or an hour', async t => {
  t.equal(cronFor(30), '*/30 * * * * *')
  t.throws(() => cronFor(7), /does not divide/)
  t.throws(() => every(7, 'x', async () => {}), /does not divide/)
})

t.test('every() runs on the slots, never overlapping, and stops', async t => {
  // Fake timers and clock: a run that overruns its slot is simulated, not waited for.
  const clock = fakeClock(Date.parse('2024-05-01T10:00:00.250Z'))
  try {
    const starts: number[] = []
    let running = 0
    let overlapped = false
    const job = every(1, 'test', async () => {
      if (running > 0) overlapped = true
      running++
      starts.push(Date.now())
      // Longer than a period: the next slot is skipped, not run beside this one.
      await new Promise(resolve => setTimeout(resolve, starts.length === 1 ? 1300 : 10))
      running--
    })
    await clock.advance(4200)
    await job.stop()
    const n = starts.length
    await clock.advance(1200)
    t.equal(starts.length, n, 'nothing runs after stop')
    t.notOk(overlapped, 'no overlap')
    t.ok(n >= 2 && n <= 4, `ran ${n} times in 4.2 s at 1 s with one 1.3 s run`)
    for (const s of starts) t.ok(s % 1000 < 200, `started on a second boundary (+${s % 1000} ms)`)
    t.ok(starts.slice(1).every((s, i) => s - starts[i] >= 900), 'never twice in one slot')
    t.same(starts.map(s => new Date(s).toISOString()), ['2024-05-01T10:00:01.000Z', '2024-05-01T10:00:03.000Z', '2024-05-01T10:00:04.000Z'],
      'exactly on the slots: the 1.3 s run made the 10:00:02 slot be skipped')
  } finally {
    clock.restore()
  }
})

t.test('a clock set back by more than half a period is followed, not waited out', async t => {
  const clock = fakeClock(Date.parse('2024-05-01T10:00:00.400Z'))
  try {
    let offsetMs = 0
    const wall = (): number => Date.now() + offsetMs
    const starts: string[] = []
    // After the first run the wall clock is set back 10 s (an NTP step); timers keep their own time.
    const job = every(1, 'test', async () => { starts.push(new Date(wall()).toISOString()); if (starts.length === 1) offsetMs = -10_000 }, wall)
    await clock.advance(3700)
    await job.stop()
    t.same(starts, ['2024-05-01T10:00:01.000Z', '2024-05-01T09:59:52.000Z', '2024-05-01T09:59:53.000Z', '2024-05-01T09:59:54.000Z'],
      'the next run is one period later on the new clock, not ten seconds later')
  } finally {
    clock.restore()
  }
})
