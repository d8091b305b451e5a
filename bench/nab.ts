/**
 * NAB benchmark: every candidate detector (bench/lib/nab/candidates.ts) replayed
 * over every file of datasets/nab, one point at a time with no labels read,
 * scored with the project's NAB scorer, for every point of the candidate's
 * parameter grid. Prints, per candidate:
 *   - the leave-one-subset-out cross-validated score (the headline: parameters
 *     chosen on the other subsets, never on the one scored) and the in-sample
 *     score (parameters chosen on all files) for standard / low-FP / low-FN;
 *   - per subset, cross-validated and in-sample standard score, window recall,
 *     false-positive events;
 *   - throughput (points/s on this one thread: median and range of --runs timings)
 *     and the largest exported state per series.
 * When shared/tools/nab-score.mjs sits beside the repo, the engine's default's
 * scores are cross-checked against it.
 *
 *   npx tsx bench/nab.ts [--nab DIR] [--only SUBSTRING] [--runs 5]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { listNabFiles, readNabSeries, readNabWindows, windowsToRows } from './lib/nab/dataset.js'
import { aggregateScores, scoreFile } from './lib/nab/score.js'
import { CANDIDATES, engineCandidate } from './lib/nab/candidates.js'
import { evaluate, prepareFile, PROFILES, runFile, throughput, type CandidateResult } from './lib/nab/cv.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({ options: { nab: { type: 'string' }, only: { type: 'string' }, runs: { type: 'string' } } })
const NAB = args.nab ?? path.join(ROOT, 'datasets', 'nab')
const RUNS = Number(args.runs ?? 5)
const REFERENCE = path.resolve(ROOT, '..', 'shared', 'tools', 'nab-score.mjs')

const windows = readNabWindows(NAB)
const files = listNabFiles(NAB).map((rel) => {
  const s = readNabSeries(NAB, rel)
  return prepareFile(s, windowsToRows(s.timestamps, windows[rel] ?? [], rel))
})
const rows = files.reduce((n, f) => n + f.s.values.length, 0)
const subsets = [...new Set(files.map((f) => f.s.subset))]
const fmt = (x: number | null, d = 1): string => x === null ? '–' : x.toFixed(d)
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2 }

console.log(`NAB: ${files.length} files, ${rows.toLocaleString('en')} rows, subsets ${subsets.join(', ')}; node ${process.version}`)
console.log('CV = leave-one-subset-out (parameters chosen on the other subsets); IS = in-sample (chosen on all files)\n')

const results: Array<{ r: CandidateResult, pps: number[] }> = []
for (const c of CANDIDATES) {
  if (args.only !== undefined && !c.name.includes(args.only)) continue
  const t0 = performance.now()
  const r = evaluate(c, files)
  const sec = (performance.now() - t0) / 1000
  const pps = throughput(c, c.grid[r.profiles.standard.inSampleChoice], files, RUNS)
  results.push({ r, pps })
  console.log(`${c.name}  (${c.grid.length} grid points, ${sec.toFixed(1)} s)`)
  for (const p of PROFILES) {
    const pr = r.profiles[p]
    const folds = subsets.map((s) => `${s}: ${c.describe(c.grid[pr.folds[s]])}`).join('; ')
    console.log(`  ${p.padEnd(19)} CV ${fmt(pr.cv, 2).padStart(7)}   IS ${fmt(pr.inSample, 2).padStart(7)}   IS choice: ${c.describe(c.grid[pr.inSampleChoice])}`)
    if (p === 'standard') console.log(`  ${''.padEnd(19)} CV choices — ${folds}`)
  }
  for (const s of subsets) {
    const cv = r.cvBySubset[s]
    const is = r.inSampleBySubset[s]
    console.log(`  ${s.padEnd(22)} CV ${fmt(cv.profiles.standard.normalized).padStart(6)} (${cv.windowsDetected}/${cv.windowsScored}, ${cv.fpEvents} FP)   IS ${fmt(is.profiles.standard.normalized).padStart(6)} (${is.windowsDetected}/${is.windowsScored}, ${is.fpEvents} FP)`)
  }
  console.log(`  ${'total'.padEnd(22)} CV ${fmt(r.cvTotal.profiles.standard.normalized).padStart(6)} (${r.cvTotal.windowsDetected}/${r.cvTotal.windowsScored}, ${r.cvTotal.fpEvents} FP)   IS ${fmt(r.inSampleTotal.profiles.standard.normalized).padStart(6)} (${r.inSampleTotal.windowsDetected}/${r.inSampleTotal.windowsScored}, ${r.inSampleTotal.fpEvents} FP)`)
  console.log(`  throughput ${Math.round(median(pps)).toLocaleString('en')} points/s (${RUNS} runs: ${Math.round(Math.min(...pps)).toLocaleString('en')}–${Math.round(Math.max(...pps)).toLocaleString('en')}), state ≤ ${r.maxStateBytes.toLocaleString('en')} bytes/series\n`)
}

console.log('| detector | CV standard | CV low FP | CV low FN | IS standard | IS low FP | IS low FN | points/s (median) | state bytes |')
console.log('|---|---|---|---|---|---|---|---|---|')
for (const { r, pps } of results) {
  const v = (p: typeof PROFILES[number], k: 'cv' | 'inSample'): string => fmt(r.profiles[p][k])
  console.log(`| ${r.name} | ${v('standard', 'cv')} | ${v('reward_low_FP_rate', 'cv')} | ${v('reward_low_FN_rate', 'cv')} | ${v('standard', 'inSample')} | ${v('reward_low_FP_rate', 'inSample')} | ${v('reward_low_FN_rate', 'inSample')} | ${Math.round(median(pps)).toLocaleString('en')} | ${r.maxStateBytes.toLocaleString('en')} |`)
}

// the scorer against the reference tool, on the engine's default
if (args.only === undefined || engineCandidate.name.includes(args.only)) {
  if (fs.existsSync(REFERENCE)) {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-nab-bench-'))
    const scores = files.map((f) => {
      const { alerts } = runFile(engineCandidate, engineCandidate.grid[0], f)
      const out = path.join(outDir, f.s.subset, `${f.s.name}.jsonl`)
      fs.mkdirSync(path.dirname(out), { recursive: true })
      fs.writeFileSync(out, f.s.timestamps.map((ts, i) => JSON.stringify({ timestamp: ts, alert: alerts[i] })).join('\n') + '\n')
      return scoreFile(f.s.values.length, f.w, alerts)
    })
    const ref = await import(pathToFileURL(REFERENCE).href) as { scoreDirectory: (o: { results: string, nab: string }) => { total: { profiles: Record<string, { normalized: number }> } } }
    const rep = ref.scoreDirectory({ results: outDir, nab: NAB })
    const total = aggregateScores(scores)
    const same = PROFILES.every((p) => Math.abs((total.profiles[p].normalized ?? NaN) - rep.total.profiles[p].normalized) < 1e-9)
    console.log(`\ncross-check of the engine's default with ${path.relative(process.cwd(), REFERENCE)}: ${same ? 'identical' : 'MISMATCH'} (${PROFILES.map((p) => rep.total.profiles[p].normalized.toFixed(2)).join(' / ')})`)
    if (!same) process.exitCode = 1
    fs.rmSync(outDir, { recursive: true, force: true })
  } else {
    console.log(`\ncross-check skipped: ${REFERENCE} not found`)
  }
}
