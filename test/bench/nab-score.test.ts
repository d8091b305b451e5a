import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { listNabFiles, readNabSeries, readNabWindows, windowsToRows } from '../../bench/lib/nab/dataset.js'
import { aggregateScores, probationLength, scoreFile, type NabScore } from '../../bench/lib/nab/score.js'
import { replayNab } from '../../bench/lib/nab/replay.js'
import { rollingZscoreAlerts } from '../../bench/lib/nab/rolling-zscore.js'
import { tempDir } from '../helpers/temp.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const NAB = path.join(ROOT, 'datasets', 'nab')
const REFERENCE = path.resolve(ROOT, '..', 'shared', 'tools', 'nab-score.mjs')

const windows = readNabWindows(NAB)
const files = listNabFiles(NAB).map((rel) => {
  const s = readNabSeries(NAB, rel)
  return { s, w: windowsToRows(s.timestamps, windows[rel] ?? [], rel) }
})

function scoreAll (detect: (values: number[], P: number, i: number) => Uint8Array): { subsets: Record<string, NabScore>, alerts: Uint8Array[] } {
  const by: Record<string, NabScore[]> = {}
  const alerts: Uint8Array[] = []
  files.forEach(({ s, w }, i) => {
    const a = detect(s.values, probationLength(s.values.length), i)
    alerts.push(a)
    ;(by[s.subset] ??= []).push(scoreFile(s.values.length, w, a))
  })
  const subsets: Record<string, NabScore> = {}
  for (const [k, v] of Object.entries(by)) subsets[k] = aggregateScores(v)
  subsets.TOTAL = aggregateScores(Object.values(by).flat())
  return { subsets, alerts }
}

const round1 = (x: number | null): number | null => x === null ? null : Math.round(x * 10) / 10

void t.test('the scorer gives never-alerting 0 and alerting on every window start 100', async (t) => {
  const nul = scoreAll((v) => new Uint8Array(v.length)).subsets.TOTAL
  t.equal(nul.profiles.standard.normalized, 0)
  const oracle = scoreAll((v, P, i) => {
    const a = new Uint8Array(v.length)
    for (const w of files[i].w) a[Math.max(w.start, Math.ceil(P))] = 1
    return a
  }).subsets.TOTAL
  t.equal(round1(oracle.profiles.standard.normalized), 100)
})

void t.test('the scorer reproduces the published rolling z-score figures of the dataset README', async (t) => {
  const z = scoreAll((v, P) => rollingZscoreAlerts(v, { probationRows: P })).subsets
  const fig = (s: NabScore): Array<number | null> => ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'].map((p) => round1(s.profiles[p].normalized))
  t.same(fig(z.realAWSCloudwatch), [0.8, -76.3, 28.3])
  t.same(fig(z.artificialWithAnomaly), [-82.1, -197.2, -43.6])
})

void t.test('the scorer matches the reference tool to 1e-9 on the engine\'s own output', async (t) => {
  // the reference tool ships beside the repo (shared/tools); without it this test checks our scorer is self-consistent
  const ours = scoreAll((_v, _P, i) => replayNab(files[i].s))
  const dir = tempDir(t, 'vigie-nab-')
  files.forEach(({ s }, i) => {
    const f = path.join(dir, s.subset, `${s.name}.jsonl`)
    fs.mkdirSync(path.dirname(f), { recursive: true })
    fs.writeFileSync(f, s.timestamps.map((ts, j) => JSON.stringify({ timestamp: ts, alert: ours.alerts[i][j] })).join('\n') + '\n')
  })
  if (!fs.existsSync(REFERENCE)) {
    t.comment(`reference tool not found at ${REFERENCE}`)
    t.ok(ours.subsets.TOTAL.profiles.standard.normalized !== null)
    return
  }
  const ref = await import(pathToFileURL(REFERENCE).href) as { scoreDirectory: (o: { results: string, nab: string }) => { subsets: Record<string, { profiles: Record<string, { normalized: number }>, fpEvents: number, windowsDetected: number }>, total: { profiles: Record<string, { normalized: number }>, fpEvents: number } } }
  const rep = ref.scoreDirectory({ results: dir, nab: NAB })
  for (const [name, sub] of Object.entries({ ...rep.subsets, TOTAL: rep.total })) {
    for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
      const a = ours.subsets[name].profiles[p].normalized
      const b = sub.profiles[p].normalized
      if (b === null) t.equal(a, null, `${name} ${p}`)
      else t.ok(a !== null && Math.abs(a - b) < 1e-9, `${name} ${p}: ${a} vs ${b}`)
    }
    t.equal(ours.subsets[name].fpEvents, sub.fpEvents, `${name} fp events`)
  }
})
