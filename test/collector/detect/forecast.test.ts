import t from 'tap'
import { DetectionEngine } from '../../../collector/detect/engine.js'
import { theilSen } from '../../../collector/detect/forecast.js'
import { DAY, HOUR, MIN, MONDAY, rng } from './fixtures/fleet.js'

const DISK = 'fs.used_pct{mount="/"}'

void t.test('a disk filling at a steady rate is flagged at least 24 h before it is full', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const r = rng(1)
  // 40 % → 100 % in 4 days, 5-minute samples, ±0.3 % noise
  const fullAt = MONDAY + 4 * DAY
  let first
  for (let at = MONDAY; at < fullAt; at += 5 * MIN) {
    const v = 40 + 60 * (at - MONDAY) / (4 * DAY) + (r() - 0.5) * 0.6
    for (const f of e.observePoint('pc1', DISK, at, v)) if (f.kind === 'forecast' && first === undefined) first = f
  }
  t.ok(first, 'a forecast finding opened')
  if (first === undefined) return
  t.ok(fullAt - first.atMs >= 24 * HOUR, `flagged ${((fullAt - first.atMs) / HOUR).toFixed(1)} h before full`)
  t.equal(first.key, `forecast:disk_fill:${DISK}`)
  t.ok(Math.abs((first.impactAtMs ?? 0) - fullAt) < 12 * HOUR, 'predicted impact within 12 h of the truth')
  t.match(first.title, /^Disk \/ will be full in \d/)
})

void t.test('a full-but-stable disk never forecasts', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const r = rng(2)
  const found = []
  for (let at = MONDAY; at < MONDAY + 7 * DAY; at += 5 * MIN) {
    found.push(...e.observePoint('pc1', DISK, at, 70 + (r() - 0.5) * 4).filter((f) => f.kind === 'forecast'))
  }
  t.same(found, [])
})

void t.test('a disk whose growth stops clears its forecast', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  const states: string[] = []
  for (let at = MONDAY; at < MONDAY + 12 * DAY; at += 10 * MIN) {
    const d = (at - MONDAY) / DAY
    const v = d < 2 ? 50 + 10 * d : 70
    for (const f of e.observePoint('pc1', DISK, at, v)) if (f.kind === 'forecast') states.push(f.state)
  }
  t.same(states, ['open', 'clear'])
})

void t.test('a battery losing health is forecast to cross its limit', async (t) => {
  const e = new DetectionEngine({ anomaly: false })
  let found
  for (let at = MONDAY; at < MONDAY + 60 * DAY && found === undefined; at += HOUR) {
    const v = 70 - 0.5 * (at - MONDAY) / DAY
    found = e.observePoint('lap1', 'battery.health_pct', at, v).find((f) => f.kind === 'forecast')
  }
  t.ok(found, 'battery fade forecast')
  t.equal(found?.key, 'forecast:battery_fade:battery.health_pct')
})

void t.test('the Theil–Sen fit ignores a few wild points', async (t) => {
  const ts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  const vs = ts.map((x) => 2 * x + 1)
  vs[3] = 100
  vs[7] = -50
  const fit = theilSen(ts, vs)
  t.equal(fit.slope, 2)
  t.equal(fit.intercept, 1)
})
