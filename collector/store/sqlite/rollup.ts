/**
 * Downsampling for the embedded store. Raw samples (frames, see metrics.ts) older
 * than the raw retention are folded into 5-minute buckets (count, sum, min, max,
 * last) just before they are pruned, so months of history cost one row per series
 * per 5 minutes.
 * Rolling up at prune time (not on ingest) keeps the ingest path untouched and
 * handles late reports from agents' spools: a bucket rolled twice is merged.
 */
import type { Db } from './db.js'
import { migrate } from './db.js'
import type { Aggregate } from '../metric-store.js'

export const ROLLUP_MS = 300_000

export function migrateRollup (db: Db): void {
  migrate(db, {
    name: 'rollup',
    sql: [`
      CREATE TABLE samples_5m (
        series_id INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        sum REAL NOT NULL,
        min REAL NOT NULL,
        max REAL NOT NULL,
        last_ts INTEGER NOT NULL,
        last REAL NOT NULL,
        PRIMARY KEY (series_id, bucket)
      ) WITHOUT ROWID;
    `]
  })
}

/** Per-bucket partial aggregate, mergeable. */
export interface Partial { b: number, n: number, sum: number, min: number, max: number, lastTs: number, last: number }

/** Adds one partial to its 5-minute bucket (merging with what was rolled before: late samples). */
export function mergeRollup (db: Db, seriesId: number, p: Partial): void {
  db.prepare(`
    INSERT INTO samples_5m (series_id, bucket, n, sum, min, max, last_ts, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (series_id, bucket) DO UPDATE SET
      n = n + excluded.n, sum = sum + excluded.sum,
      min = MIN(min, excluded.min), max = MAX(max, excluded.max),
      last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,
      last_ts = MAX(last_ts, excluded.last_ts)`).run(seriesId, p.b, p.n, p.sum, p.min, p.max, p.lastTs, p.last)
}

export function pruneRollups (db: Db, beforeMs: number): number {
  return db.prepare('DELETE FROM samples_5m WHERE bucket < ?').run(beforeMs).changes
}

/** Partial aggregates per `step` bucket from the 5-minute rollups (step is at least 5 minutes here). */
export function rollupPartials (db: Db, seriesId: number, fromMs: number, toMs: number, stepMs: number): Partial[] {
  return db.prepare(`SELECT bucket - (bucket % @step) AS b, SUM(n) AS n, SUM(sum) AS sum, MIN(min) AS min, MAX(max) AS max, MAX(last_ts) AS lastTs, last
    FROM samples_5m WHERE series_id = @id AND bucket >= @from AND bucket < @to GROUP BY b ORDER BY b`)
    .all({ step: stepMs, id: seriesId, from: fromMs, to: toMs }) as Partial[]
}

/** Merges partials of the same bucket (ascending input) and reduces them to one value each. */
export function finish (parts: Partial[], agg: Aggregate): Array<[number, number]> {
  const merged: Partial[] = []
  for (const p of parts) {
    const prev = merged.at(-1)
    if (prev !== undefined && prev.b === p.b) {
      prev.n += p.n
      prev.sum += p.sum
      prev.min = Math.min(prev.min, p.min)
      prev.max = Math.max(prev.max, p.max)
      if (p.lastTs >= prev.lastTs) { prev.lastTs = p.lastTs; prev.last = p.last }
    } else {
      merged.push({ ...p })
    }
  }
  return merged.map(p => [p.b, agg === 'avg' ? p.sum / p.n : agg === 'min' ? p.min : agg === 'max' ? p.max : p.last])
}
