import t from 'tap'
import { Baseline, featureName } from '../../../collector/detect/baseline.js'
import { DAY, HOUR, MIN, MONDAY, rng } from './fixtures/fleet.js'

function run (b: Baseline, from: number, n: number, stepMs: number, value: (i: number, at: number) => number): number[] {
  const opened: number[] = []
  for (let i = 0; i < n; i++) if (b.observe(from + i * stepMs, value(i, from + i * stepMs)).opened) opened.push(i)
  return opened
}

void t.test('a level shift to values never seen opens one episode, not one per point', async (t) => {
  const b = new Baseline()
  const r = rng(1)
  run(b, MONDAY, 2000, 5 * MIN, () => 20 + r() * 4)
  const start = MONDAY + 2000 * 5 * MIN
  const first = b.observe(start, 45 + r() * 4)
  t.ok(b.isOpen && (first.opened || first.escalated), 'the first shifted point opens (or escalates) an episode')
  t.same(run(b, start + 5 * MIN, 500, 5 * MIN, () => 45 + r() * 4), [], 'the rest of the shift is the same episode')
})

void t.test('a spike higher than anything before opens at that point', async (t) => {
  const b = new Baseline()
  const r = rng(2)
  run(b, MONDAY, 1500, 5 * MIN, () => 10 + r() * 2)
  t.same(run(b, MONDAY + 1500 * 5 * MIN, 10, 5 * MIN, (i) => i === 4 ? 40 : 10 + r()), [4])
})

void t.test('a daily rhythm is learned: the usual peak is quiet, a missing peak is not', async (t) => {
  const b = new Baseline()
  const r = rng(3)
  const shape = (at: number, peak = true): number => {
    const h = (at % DAY) / HOUR
    return (peak && h >= 9 && h < 17 ? 60 : 10) + r() * 3
  }
  const usual = run(b, MONDAY, 7 * 288, 5 * MIN, (_i, at) => shape(at))
  t.same(usual.filter((i) => i > 2 * 288), [], 'no alert once the rhythm is known')
  const missing = run(b, MONDAY + 7 * DAY, 288, 5 * MIN, (_i, at) => shape(at, false))
  t.equal(missing.length, 1, 'the day without its peak opens one episode')
  t.ok(missing[0] >= 9 * 12 && missing[0] <= 10 * 12, 'within the first hour of the missing peak')
})

void t.test('a laptop asleep overnight is not an anomaly when it wakes at its usual level', async (t) => {
  const b = new Baseline()
  const r = rng(4)
  let opened: number[] = []
  for (let d = 0; d < 10; d++) {
    // awake 08:00–20:00, one sample a minute, asleep otherwise
    opened = opened.concat(run(b, MONDAY + d * DAY + 8 * HOUR, 720, MIN, () => 30 + r() * 10).map((i) => d * 1000 + i))
  }
  t.same(opened.filter((i) => i > 2000 && i % 1000 < 5), [], 'no alert when it wakes')
  t.ok(opened.filter((i) => i > 2000).length <= 2, 'and at most the odd noise record in 8 days')
})

void t.test('the likelihood layer on its own: a burst of jitter opens one episode from the prediction error', async (t) => {
  const steady = (i: number, r: () => number): number => 50 + 10 * Math.sin(i / 40) + r()
  const jitter = (i: number): number => i % 2 === 0 ? 42 : 58
  // margins so wide that no record can count: only the likelihood layer can speak
  const recordsOff = { noveltyMargin: [1e9, 1e9, 1e9, 1e9, 1e9, 1e9] as [number, number, number, number, number, number] }
  for (const likelihoodZ of [4, 0]) {
    const b = new Baseline({ ...recordsOff, likelihoodZ })
    const r = rng(5)
    t.same(run(b, MONDAY, 3000, 5 * MIN, (i) => steady(i, r)).filter((i) => i > 500), [], `z ${likelihoodZ}: the steady series is quiet`)
    const features: string[] = []
    for (let i = 0; i < 60; i++) {
      const step = b.observe(MONDAY + (3000 + i) * 5 * MIN, jitter(i))
      if (step.opened) features.push(featureName(step.feature))
    }
    t.same(features, likelihoodZ > 0 ? ['prediction error'] : [], likelihoodZ > 0 ? 'the burst opens one episode, from the prediction error' : 'switched off, nothing')
  }
})
