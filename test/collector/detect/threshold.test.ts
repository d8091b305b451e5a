import t from 'tap'
import { DetectionEngine, type Finding } from '../../../collector/detect/engine.js'
import { MIN, MONDAY } from './fixtures/fleet.js'

const DISK = 'fs.used_pct{mount="/"}'

function feed (e: DetectionEngine, values: number[], stepMs = MIN, start = MONDAY): Finding[] {
  const out: Finding[] = []
  values.forEach((v, i) => { for (const f of e.observePoint('pc1', DISK, start + i * stepMs, v)) if (f.kind === 'threshold') out.push(f) })
  return out
}

void t.test('a disk breach shorter than the rule duration opens nothing', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  // 5-minute rule: 3 minutes above 90 %, then back down
  t.same(feed(e, [80, 91, 92, 91, 80, 80]), [])
})

void t.test('a disk breach held for the rule duration opens one warning finding', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const found = feed(e, [80, ...new Array<number>(10).fill(92)])
  t.equal(found.length, 1)
  t.equal(found[0].state, 'open')
  t.equal(found[0].severity, 'warning')
  t.equal(found[0].key, `rule:disk_full:${DISK}`)
  t.equal(found[0].title, 'Disk / is 92% full')
  t.equal(found[0].atMs, MONDAY + 6 * MIN, 'opens when the breach has held 5 minutes')
})

void t.test('a disk hovering around the limit does not flap: it clears only below the clear level', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const found = feed(e, [...new Array<number>(8).fill(92), 89, 91, 88, 90.5, 86, 91, 84, 84])
  t.same(found.map((f) => f.state), ['open', 'clear'])
  t.equal(found[1].atMs, MONDAY + 14 * MIN, 'clears at the first value at or below 85 %')
})

void t.test('a warning escalates to critical once the critical limit holds', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const found = feed(e, [...new Array<number>(7).fill(92), ...new Array<number>(8).fill(98)])
  t.same(found.map((f) => `${f.state}:${f.severity}`), ['open:warning', 'open:critical'])
})

void t.test('a group override changes the limit for that group only', async (t) => {
  const rules = (await import('../../../collector/detect/rules.js')).defaultRules()
  rules.groups.lab = { disk_full: { warning: 95 } }
  const e = new DetectionEngine({ rules, anomaly: false })
  e.observeReport('lab1', (await import('./fixtures/fleet.js')).makeReport('lab1', MONDAY, []), MONDAY, 'lab')
  const lab: Finding[] = []
  const office: Finding[] = []
  for (let i = 0; i < 10; i++) {
    lab.push(...e.observePoint('lab1', DISK, MONDAY + i * MIN, 93))
    office.push(...e.observePoint('pc2', DISK, MONDAY + i * MIN, 93))
  }
  t.equal(lab.filter((f) => f.kind === 'threshold').length, 0)
  t.equal(office.filter((f) => f.kind === 'threshold').length, 1)
})

void t.test('a failing SMART self-assessment opens a critical finding at once', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const f = e.observePoint('pc1', 'smart.healthy{device="sda"}', MONDAY, 0)
  t.equal(f.length, 1)
  t.equal(f[0].severity, 'critical')
  t.match(f[0].title, /sda/)
})
