/**
 * NAB benchmark: replays every file of datasets/nab through the detection engine
 * (DetectionEngine.observePoint, the collector's code path) and scores it with the
 * project's scorer; prints standard / low-FP / low-FN, recall and FP events per
 * subset, each also as a ratio against the rolling z-score baseline run in the
 * same process. When shared/tools/nab-score.mjs sits beside the repo, the totals
 * are cross-checked against it.
 *
 *   npx tsx bench/nab.ts [--nab DIR]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { listNabFiles, readNabSeries, readNabWindows, windowsToRows } from './lib/nab/dataset.js'
import { aggregateScores, probationLength, scoreFile, type NabScore } from './lib/nab/score.js'
import { replayNab } from './lib/nab/replay.js'
import { rollingZscoreAlerts } from './lib/nab/rolling-zscore.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({ options: { nab: { type: 'string' } } })
const NAB = args.nab ?? path.join(ROOT, 'datasets', 'nab')
const REFERENCE = path.resolve(ROOT, '..', 'shared', 'tools', 'nab-score.mjs')
const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']

const windows = readNabWindows(NAB)
const engine: Record<string, NabScore[]> = {}
const zscore: Record<string, NabScore[]> = {}
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-nab-bench-'))
const t0 = performance.now()
let rows = 0
for (const rel of listNabFiles(NAB)) {
  const s = readNabSeries(NAB, rel)
  const w = windowsToRows(s.timestamps, windows[rel] ?? [], rel)
  const alerts = replayNab(s)
  rows += s.values.length
  ;(engine[s.subset] ??= []).push(scoreFile(s.values.length, w, alerts))
  ;(zscore[s.subset] ??= []).push(scoreFile(s.values.length, w, rollingZscoreAlerts(s.values, { probationRows: probationLength(s.values.length) })))
  const f = path.join(outDir, s.subset, `${s.name}.jsonl`)
  fs.mkdirSync(path.dirname(f), { recursive: true })
  fs.writeFileSync(f, s.timestamps.map((ts, i) => JSON.stringify({ timestamp: ts, alert: alerts[i] })).join('\n') + '\n')
}
const elapsed = performance.now() - t0

const fmt = (x: number | null, d = 2): string => x === null ? '-' : x.toFixed(d)
const ratio = (a: number | null, b: number | null): string => a === null || b === null ? '' : b <= 0 ? ` (Δ ${(a - b >= 0 ? '+' : '') + (a - b).toFixed(1)}; ratio n/a, baseline ≤ 0)` : ` (${(a / b).toFixed(2)}×; Δ ${(a - b >= 0 ? '+' : '') + (a - b).toFixed(1)})`
console.log(`NAB (${rows} rows, ${Object.values(engine).flat().length} files) — engine vs rolling z-score (window 288, z 4), same run`)
const subsets = [...Object.keys(engine), 'TOTAL']
for (const name of subsets) {
  const e = name === 'TOTAL' ? aggregateScores(Object.values(engine).flat()) : aggregateScores(engine[name])
  const z = name === 'TOTAL' ? aggregateScores(Object.values(zscore).flat()) : aggregateScores(zscore[name])
  console.log(`\n${name}`)
  for (const p of PROFILES) console.log(`  ${p.padEnd(20)} ${fmt(e.profiles[p].normalized).padStart(8)}   z-score ${fmt(z.profiles[p].normalized).padStart(8)}${ratio(e.profiles[p].normalized, z.profiles[p].normalized)}`)
  console.log(`  ${'window recall'.padEnd(20)} ${fmt(e.windowRecall, 3).padStart(8)}   z-score ${fmt(z.windowRecall, 3).padStart(8)}`)
  console.log(`  ${'FP events'.padEnd(20)} ${String(e.fpEvents).padStart(8)}   z-score ${String(z.fpEvents).padStart(8)}${z.fpEvents > 0 ? ` (${(e.fpEvents / z.fpEvents).toFixed(3)}×)` : ''}`)
}
console.log(`\nreplay + scoring: ${(elapsed / 1000).toFixed(2)} s`)

if (fs.existsSync(REFERENCE)) {
  const ref = await import(pathToFileURL(REFERENCE).href) as { scoreDirectory: (o: { results: string, nab: string }) => { total: { profiles: Record<string, { normalized: number }> } } }
  const rep = ref.scoreDirectory({ results: outDir, nab: NAB })
  const total = aggregateScores(Object.values(engine).flat())
  const same = PROFILES.every((p) => Math.abs((total.profiles[p].normalized ?? NaN) - rep.total.profiles[p].normalized) < 1e-9)
  console.log(`cross-check with ${path.relative(process.cwd(), REFERENCE)}: ${same ? 'identical' : 'MISMATCH'} (${PROFILES.map((p) => rep.total.profiles[p].normalized.toFixed(2)).join(' / ')})`)
  if (!same) process.exitCode = 1
} else {
  console.log(`cross-check skipped: ${REFERENCE} not found`)
}
fs.rmSync(outDir, { recursive: true, force: true })
