/**
 * The metric answer's budgets and its serialisation, for GET /api/v1/machines/:id/metrics.
 *
 * Budgets: a bounded number of points per series (VIGIE_QUERY_MAX_POINTS) and in
 * the whole answer (VIGIE_QUERY_MAX_ANSWER_POINTS): a name with many series (one
 * per process, per core) asked at the per-series maximum built 2 million points
 * and ~39 MB of JSON, serialised in one piece (the event loop held 1.8-3.2 s).
 *
 * Serialisation: the answer is written as JSON a slice of points at a time,
 * yielding to the event loop between slices, so even an answer at the bound
 * (~100,000 points, ~2 MB, 40-100 ms for one JSON.stringify) never holds ingest.
 */
import type { SeriesResult } from '../store/metric-store.js'
import { VigieError } from '../core/errors.js'

/** Points serialised before yielding to the event loop (a few ms of work). */
const POINTS_PER_SLICE = 5000

export interface AnswerBudget {
  /** points per series (VIGIE_QUERY_MAX_POINTS) */
  maxPoints: number
  /** points in the whole answer (VIGIE_QUERY_MAX_ANSWER_POINTS) */
  maxAnswerPoints: number
}

/** Buckets [from, to) touches at `stepMs` (buckets start at multiples of the step). */
export function bucketsOf (fromMs: number, toMs: number, stepMs: number): number {
  return Math.floor((Math.ceil(toMs) - 1) / stepMs) - Math.floor(Math.floor(fromMs) / stepMs) + 1
}

/**
 * The step to answer with: the one asked for, if the answer fits the budgets with
 * `series` series, else a 400 naming the bound and the smallest step that fits;
 * without one asked, a default (about 300 points per series) lowered to fit.
 */
export function answerStep (fromMs: number, toMs: number, askedStepMs: number | undefined, series: number, b: AnswerBudget): number {
  const perSeries = Math.min(b.maxPoints, Math.floor(b.maxAnswerPoints / Math.max(1, series)))
  if (perSeries < 2) {
    throw new VigieError('VIGIE_ERR_VALIDATION', `this name has ${series} series: more than VIGIE_QUERY_MAX_ANSWER_POINTS (${b.maxAnswerPoints}) allows at two points each; ask for one series with labels`, { path: '/labels' })
  }
  const range = toMs - fromMs
  // `- 1`: a range not aligned on the step touches one bucket more than range / step.
  const smallest = Math.max(1, Math.ceil(range / (perSeries - 1)))
  if (askedStepMs === undefined) return Math.max(1000, Math.ceil(range / Math.min(300, perSeries - 1)))
  const buckets = bucketsOf(fromMs, toMs, askedStepMs)
  if (buckets > b.maxPoints) {
    throw new VigieError('VIGIE_ERR_VALIDATION', `range / step gives more than ${b.maxPoints} points (VIGIE_QUERY_MAX_POINTS); use a step of at least ${Math.ceil(range / (b.maxPoints - 1))} ms`, { path: '/step' })
  }
  if (buckets * series > b.maxAnswerPoints) {
    throw new VigieError('VIGIE_ERR_VALIDATION', `${series} series × ${buckets} points is more than ${b.maxAnswerPoints} points in one answer (VIGIE_QUERY_MAX_ANSWER_POINTS); use a step of at least ${smallest} ms, or ask for fewer series with labels`, { path: '/step' })
  }
  return askedStepMs
}

const yieldNow = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/**
 * The answer as JSON text, built a slice of points at a time with a yield between
 * slices; the same document JSON.stringify would give for
 * `{ ...head, series }` (head's keys first, series last).
 */
export async function serializeAnswer (head: Record<string, unknown>, series: readonly SeriesResult[]): Promise<string> {
  const parts: string[] = [JSON.stringify(head).slice(0, -1), Object.keys(head).length > 0 ? ',"series":[' : '"series":[']
  let sinceYield = 0
  for (let i = 0; i < series.length; i++) {
    const s = series[i]
    parts.push(`${i > 0 ? ',' : ''}{"name":${JSON.stringify(s.name)},"labels":${JSON.stringify(s.labels)},"unit":${JSON.stringify(s.unit)},"points":[`)
    for (let j = 0; j < s.points.length; j += POINTS_PER_SLICE) {
      const slice = JSON.stringify(s.points.slice(j, j + POINTS_PER_SLICE))
      parts.push(`${j > 0 ? ',' : ''}${slice.slice(1, -1)}`)
      sinceYield += Math.min(POINTS_PER_SLICE, s.points.length - j)
      if (sinceYield >= POINTS_PER_SLICE) { sinceYield = 0; await yieldNow() }
    }
    parts.push(`],"resolution":${JSON.stringify(s.resolution)}}`)
  }
  parts.push(']}')
  return parts.join('')
}
