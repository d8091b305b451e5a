import t from 'tap'
import { DetectionEngine, type Finding } from '../../../collector/detect/engine.js'
import { DAY, HOUR, MIN, MONDAY, makeReport, metric } from './fixtures/fleet.js'

/** A desktop on 08:00–18:00 on weekdays for `weeks` weeks, reporting every 5 minutes. */
function officeDesktop (weeks: number): { e: DetectionEngine, end: number, found: Finding[] } {
  const e = new DetectionEngine()
  const found: Finding[] = []
  const end = MONDAY + weeks * 7 * DAY
  for (let day = MONDAY; day < end; day += DAY) {
    const dow = new Date(day).getUTCDay()
    if (dow === 0 || dow === 6) { found.push(...e.tick(day + 12 * HOUR)); continue }
    for (let at = day + 8 * HOUR; at < day + 18 * HOUR; at += 5 * MIN) {
      found.push(...e.observeReport('desk1', makeReport('desk1', at, [metric('cpu.load_pct', 10)]), at + 1000))
      if ((at / MIN) % 30 === 0) found.push(...e.tick(at))
    }
    for (let at = day + 18 * HOUR; at < day + DAY; at += 30 * MIN) found.push(...e.tick(at))
  }
  return { e, end, found }
}

void t.test("a desktop's usual night and weekend silence opens nothing", async (t) => {
  const { e, end, found } = officeDesktop(3)
  t.same(found.filter((f) => f.kind === 'offline'), [], 'three weeks of the usual routine')
  const nights: Finding[] = []
  for (let at = end; at < end + 8 * HOUR; at += 30 * 1000) nights.push(...e.tick(at)) // Monday 00:00–08:00
  t.same(nights, [])
})

void t.test('a desktop silent at an hour it is always up opens an offline finding, which clears when it reports', async (t) => {
  const { e, end } = officeDesktop(3)
  // Monday of week 4: the desktop never comes up
  const found: Finding[] = []
  for (let at = end; at < end + 11 * HOUR; at += 30 * 1000) found.push(...e.tick(at))
  t.equal(found.length, 1)
  t.equal(found[0].kind, 'offline')
  t.equal(found[0].state, 'open')
  t.equal(found[0].machineId, 'desk1')
  t.ok(found[0].atMs > end + 8 * HOUR && found[0].atMs <= end + 9 * HOUR + 15 * MIN, 'raised within the first usual hour')
  const back = e.observeReport('desk1', makeReport('desk1', end + 11 * HOUR, [metric('cpu.load_pct', 10)]), end + 11 * HOUR)
  t.same(back.map((f) => `${f.kind}:${f.state}`), ['offline:clear'])
})

void t.test('a machine with less than two weeks of history is never judged silent', async (t) => {
  const { e, end } = officeDesktop(1)
  const found: Finding[] = []
  for (let at = end; at < end + 12 * HOUR; at += MIN) found.push(...e.tick(at))
  t.same(found, [])
})

void t.test('the fleet overview can tell "off as usual" from "silent when it should be up"', async (t) => {
  const { e, end } = officeDesktop(3)
  t.equal(e.silenceExpected('desk1', end + 3 * HOUR), true, 'Monday 03:00: off as usual')
  t.equal(e.silenceExpected('desk1', end + 10 * HOUR), false, 'Monday 10:00: it is always up then')
  t.equal(e.silenceExpected('nobody', end), undefined, 'an unknown machine has no habit')
  const young = officeDesktop(1)
  t.equal(young.e.silenceExpected('desk1', young.end + 3 * HOUR), undefined, 'one week is not enough to know its habits')
})
