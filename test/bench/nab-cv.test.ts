import t from 'tap'
import { crossValidate, type NabFile } from '../../bench/lib/nab/cv.js'
import { scoreFile, type RowWindow } from '../../bench/lib/nab/score.js'

const N = 1000
const W: RowWindow = { start: 500, end: 599 }
const file = (subset: string): NabFile => ({ s: { rel: `${subset}/f.csv`, subset, name: 'f', timestamps: [], values: [] }, w: [W], times: new Float64Array(0) })
const alertAt = (i: number | null): Uint8Array => { const a = new Uint8Array(N); if (i !== null) a[i] = 1; return a }
const score = (i: number | null): ReturnType<typeof scoreFile> => scoreFile(N, [W], alertAt(i))

void t.test('leave-one-subset-out never scores a subset with parameters chosen on it', async (t) => {
  const files = [file('A'), file('B')]
  // grid 0 is perfect on A and blind on B; grid 1 the reverse; grid 2 detects both halfway through the window
  const scores = [[score(500), score(null)], [score(null), score(500)], [score(550), score(550)]]
  const r = crossValidate('x', files, scores, [[1, 1], [1, 1], [1, 1]])
  const std = r.profiles.standard
  t.equal(std.inSampleChoice, 2, 'in-sample picks the grid point best on both')
  t.ok((std.inSample ?? 0) > 80, `in-sample ${std.inSample}`)
  t.same(std.folds, { A: 1, B: 0 }, 'each fold picks what is best on the other subset')
  t.equal(std.cv, 0, 'so the held-out subsets are both missed')
  t.equal(r.cvBySubset.A.windowsDetected, 0)
  t.equal(r.cvTotal.files, 2, 'every file is held out exactly once')
})

void t.test('the cross-validated score equals the in-sample one when every fold agrees', async (t) => {
  const files = [file('A'), file('B'), file('C')]
  const scores = [[score(500), score(520), score(510)], [score(590), score(null), score(599)]]
  const r = crossValidate('x', files, scores, [[10, 20, 30], [1, 1, 1]])
  for (const p of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const) t.equal(r.profiles[p].cv, r.profiles[p].inSample, p)
  t.equal(r.maxStateBytes, 30)
})
