/**
 * Detection throughput: points per second on one core through
 * DetectionEngine.observePoint (rules lookup, baseline, per-series state), and
 * bytes of exported state per series; printed against a trivial EWMA detector
 * run in the same process as the baseline.
 *
 *   npx tsx bench/detect-throughput.ts [--series 2000] [--points 300] [--likelihood-z 4]
 *
 * --likelihood-z 0 switches the baseline's likelihood layer off (the engine before it).
 */
import { parseArgs } from 'node:util'
import { DetectionEngine } from '../collector/detect/engine.js'

const { values: a } = parseArgs({ options: { series: { type: 'string' }, points: { type: 'string' }, 'likelihood-z': { type: 'string' } } })
const SERIES = Number(a.series ?? 2000)
const POINTS = Number(a.points ?? 300)
const T0 = Date.UTC(2024, 0, 1)
const STEP = 60_000

// a mix of what agents send: a daily rhythm, noise, occasional spikes
const names = ['cpu.load_pct', 'mem.used_pct', 'temp.cpu_c', 'net.rx_errors_per_sec{iface="eth0"}', 'fs.used_pct{mount="/"}', 'proc.rss_bytes{name="chrome"}']
const keys = Array.from({ length: SERIES }, (_, i) => [`m${Math.floor(i / names.length)}`, names[i % names.length]] as const)
const val = (s: number, p: number): number => 30 + 20 * Math.sin((p * STEP) / 86_400_000 * 2 * Math.PI + s) + ((p * 7919 + s * 104729) % 101) / 10 + ((p + s) % 997 === 0 ? 50 : 0)

function timeEngine (): { pps: number, bytesPerSeries: number } {
  const e = new DetectionEngine(a['likelihood-z'] === undefined ? {} : { baseline: { likelihoodZ: Number(a['likelihood-z']) } })
  // warm: one pass so JIT and maps settle, then the timed passes
  for (let s = 0; s < SERIES; s++) e.observePoint(keys[s][0], keys[s][1], T0, val(s, 0))
  const t = performance.now()
  for (let p = 1; p <= POINTS; p++) {
    const at = T0 + p * STEP
    for (let s = 0; s < SERIES; s++) e.observePoint(keys[s][0], keys[s][1], at, val(s, p))
  }
  const sec = (performance.now() - t) / 1000
  const bytes = JSON.stringify(e.exportState()).length
  return { pps: SERIES * POINTS / sec, bytesPerSeries: bytes / e.seriesCount }
}

function timeEwma (): { pps: number, bytesPerSeries: number } {
  // the trivial baseline: EWMA mean and variance per series, alert at 4σ
  const st = new Map<string, { m: number, v: number }>()
  let alerts = 0
  for (let s = 0; s < SERIES; s++) st.set(keys[s][0] + '\u0000' + keys[s][1], { m: val(s, 0), v: 1 })
  const t = performance.now()
  for (let p = 1; p <= POINTS; p++) {
    for (let s = 0; s < SERIES; s++) {
      const x = st.get(keys[s][0] + '\u0000' + keys[s][1]) as { m: number, v: number }
      const d = val(s, p) - x.m
      if (d * d > 16 * x.v) alerts++
      x.m += 0.05 * d
      x.v += 0.05 * (d * d - x.v)
    }
  }
  const sec = (performance.now() - t) / 1000
  if (alerts < 0) console.log(alerts)
  return { pps: SERIES * POINTS / sec, bytesPerSeries: JSON.stringify([...st]).length / st.size }
}

const ew = timeEwma()
const en = timeEngine()
console.log(`${SERIES} series × ${POINTS} points, one core (node ${process.version})`)
console.log(`engine  ${Math.round(en.pps).toLocaleString('en')} points/s   ${Math.round(en.bytesPerSeries)} bytes state/series (exported JSON)`)
console.log(`EWMA    ${Math.round(ew.pps).toLocaleString('en')} points/s   ${Math.round(ew.bytesPerSeries)} bytes state/series`)
console.log(`ratio   engine/EWMA throughput ${(en.pps / ew.pps).toFixed(3)}×   state ${(en.bytesPerSeries / ew.bytesPerSeries).toFixed(1)}×`)
console.log(`targets ≥ 200,000 points/s: ${en.pps >= 200_000 ? 'met' : 'MISSED'}   ≤ 4096 bytes/series: ${en.bytesPerSeries <= 4096 ? 'met' : 'MISSED'}`)
