import t from 'tap'
import { DetectionEngine, FLEET_MACHINE_ID, type Finding } from '../../../collector/detect/engine.js'
import { DAY, HOUR, MIN, MONDAY, makeReport, metric, rng } from './fixtures/fleet.js'

/**
 * 18 machines report CPU every 5 minutes. On day 3, 14 of them update AcmeSync
 * 1.2 → 1.3 (staggered over 2 hours); on 12 of those the CPU load triples.
 */
function fleetWithBadUpdate (): Finding[] {
  const e = new DetectionEngine()
  const r = rng(11)
  const found: Finding[] = []
  const updateAt = (m: number): number => MONDAY + 3 * DAY + 10 * HOUR + m * 8 * MIN
  for (let at = MONDAY; at < MONDAY + 5 * DAY; at += 5 * MIN) {
    for (let m = 0; m < 18; m++) {
      const id = `pc${m}`
      const updates = m < 14
      const updated = updates && at >= updateAt(m)
      const regressed = updated && m < 12
      const cpu = (regressed ? 30 : 10) + (r() - 0.5) * 4
      const first = at === MONDAY
      const justUpdated = updates && at >= updateAt(m) && at - 5 * MIN < updateAt(m)
      const apps = first || justUpdated ? [{ name: 'AcmeSync', version: updated ? '1.3' : '1.2' }, { name: 'Editor', version: '9.0' }] : undefined
      found.push(...e.observeReport(id, makeReport(id, at, [metric('cpu.load_pct', cpu)], apps === undefined ? {} : { apps }), at))
    }
    if ((at / MIN) % 30 === 0) found.push(...e.tick(at))
  }
  return found
}

void t.test('a CPU regression on machines that took one update is linked to it, with "N of M"', async (t) => {
  const found = fleetWithBadUpdate()
  const change = found.filter((f) => f.kind === 'change')
  t.equal(new Set(change.map((f) => f.key)).size, 1, 'one fleet incident, recounted as the update rolls out')
  const last = change[change.length - 1]
  t.equal(last.machineId, FLEET_MACHINE_ID)
  const s = last.suspectedChange
  t.match(s, { app: 'AcmeSync', from: '1.2', to: '1.3', updated: 14 })
  // a machine whose baseline episode was already open when its CPU jumped does not open a second one
  t.ok(s !== undefined && s.affected >= 10 && s.affected <= 12, `affected ${s?.affected} of the 12 that regressed`)
  t.equal(last.title, `anomaly:cpu.load_pct on ${s?.affected} of 14 machines that updated AcmeSync from 1.2 to 1.3`)
  const linked = new Set(found.filter((f) => f.kind === 'anomaly' && f.state === 'open' && f.suspectedChange !== undefined).map((f) => f.machineId))
  for (const id of last.evidence.machines as string[]) t.ok(linked.has(id), `${id}'s finding carries the suspected change`)
  for (const id of linked) t.ok(Number(id.slice(2)) < 14, `${id} took the update`)
})

void t.test('machines that did not update are not blamed on the update', async (t) => {
  const found = fleetWithBadUpdate()
  const anomalies = found.filter((f) => f.kind === 'anomaly' && f.state === 'open' && f.atMs > MONDAY + 3 * DAY)
  for (const id of ['pc14', 'pc15', 'pc16', 'pc17']) t.notOk(anomalies.some((f) => f.machineId === id && f.suspectedChange !== undefined), id)
})

void t.test('an update followed by findings on only a few machines is not suspected', async (t) => {
  const e = new DetectionEngine()
  const found: Finding[] = []
  const r = rng(5)
  for (let at = MONDAY; at < MONDAY + 5 * DAY; at += 5 * MIN) {
    for (let m = 0; m < 10; m++) {
      const id = `pc${m}`
      const updated = at >= MONDAY + 3 * DAY
      const apps = at === MONDAY || at === MONDAY + 3 * DAY ? [{ name: 'AcmeSync', version: updated ? '1.3' : '1.2' }] : undefined
      const cpu = (updated && m < 2 ? 30 : 10) + (r() - 0.5) * 4
      found.push(...e.observeReport(id, makeReport(id, at, [metric('cpu.load_pct', cpu)], apps === undefined ? {} : { apps }), at))
    }
    if ((at / MIN) % 30 === 0) found.push(...e.tick(at))
  }
  t.same(found.filter((f) => f.kind === 'change'), [])
})
