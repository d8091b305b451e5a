/**
 * Downsampling and pruning for the embedded store. Raw samples (frames, see
 * frames.ts) older than the raw retention are folded into 5-minute buckets
 * (count, sum, min, max, last) just before they are pruned, so months of history
 * cost one row per series per 5 minutes; rollups older than their own retention
 * are deleted.
 * Rolling up at prune time (not on ingest) keeps the ingest path untouched and
 * handles late reports from agents' spools: a bucket rolled twice is merged.
 */
import type { Db } from './db.js'
import { migrate } from './db.js'
import type { Aggregate } from '../metric-store.js'

export const ROLLUP_MS = 300_000

/** Machines rolled up and pruned per transaction before yielding to the event loop. */
const PRUNE_SLICE = 20

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

/** Adds a sample (in time order) to a bucket's partial aggregate. */
export function addSample (p: Partial, ts: number, v: number): void {
  p.n++
  p.sum += v
  if (v < p.min) p.min = v
  if (v > p.max) p.max = v
  p.lastTs = ts
  p.last = v
}

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

/**
 * Folds frames older than the raw retention into 5-minute rollups and deletes
 * them, one slice of machines per transaction so a large prune never blocks
 * ingest for long; then drops rollups past their own retention. Returns the
 * number of values (raw samples) dropped.
 */
export async function pruneFrames (db: Db, nowMs: number, retentionMs: number, rollupRetentionMs: number): Promise<number> {
  // Cut on a bucket boundary so no 5-minute bucket is half raw, half rolled up.
  const cutoff = Math.floor((nowMs - retentionMs) / ROLLUP_MS) * ROLLUP_MS
  // The boundary first: queries below it read rollups and whatever raw frames remain.
  db.prepare("INSERT INTO meta (key, value) VALUES ('raw_pruned_before', ?) ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)").run(String(cutoff))
  const machines = db.prepare('SELECT DISTINCT machine_id FROM frames WHERE ts < ?').pluck().all(cutoff) as string[]
  let total = 0
  for (let i = 0; i < machines.length; i += PRUNE_SLICE) {
    const slice = machines.slice(i, i + PRUNE_SLICE)
    total += db.transaction(() => {
      let dropped = 0
      for (const machineId of slice) dropped += rollUpMachine(db, machineId, cutoff)
      return dropped
    })()
    if (i + PRUNE_SLICE < machines.length) await new Promise(resolve => setImmediate(resolve))
  }
  pruneRollups(db, nowMs - rollupRetentionMs)
  return total
}

/** One machine's frames before `cutoff` into rollups, then deleted; returns the values dropped. */
function rollUpMachine (db: Db, machineId: string, cutoff: number): number {
  const buckets = new Map<string, Partial & { id: number }>()
  let values = 0
  const rows = db.prepare('SELECT ts, data FROM frames WHERE machine_id = ? AND ts < ? ORDER BY ts')
    .iterate(machineId, cutoff) as IterableIterator<{ ts: number, data: Buffer }>
  for (const { ts, data } of rows) {
    const n = data.length / 12
    values += n
    const b = ts - (ts % ROLLUP_MS)
    for (let i = 0; i < n; i++) {
      const id = data.readUInt32LE(8 * n + 4 * i)
      const v = data.readDoubleLE(8 * i)
      const key = id + ':' + b
      const p = buckets.get(key)
      if (p === undefined) buckets.set(key, { id, b, n: 1, sum: v, min: v, max: v, lastTs: ts, last: v })
      else addSample(p, ts, v)
    }
  }
  for (const p of buckets.values()) mergeRollup(db, p.id, p)
  db.prepare('DELETE FROM frames WHERE machine_id = ? AND ts < ?').run(machineId, cutoff)
  return values
}
