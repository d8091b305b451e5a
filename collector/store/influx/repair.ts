/**
 * Rollup repair: samples that reach InfluxDB after every continuous-query run
 * covering their bucket would never be rolled up. When a batch ships, the
 * buckets its late samples went into are recorded in the outbox's repair list
 * (same SQLite transaction as the rows' removal); the shipper then recomputes
 * them with explicit `SELECT … INTO` statements, in bounded windows, and
 * removes them from the list once InfluxDB answered.
 */
import type { MetricOutbox, OutboxRow, RollupRepair } from '../sqlite/outbox.js'
import { describeFailure } from './connection.js'
import { execRaw, type Health, type InfluxLink } from './link.js'
import { DAY_MS, ROLLUPS, lateAfterMs, repairStatement, type Resample, type Rollup } from './schema.js'

/** Largest time window and measurement list of one repair statement. */
const REPAIR_WINDOW_MS: Record<Rollup['name'], number> = { '5m': DAY_MS, '1h': 14 * DAY_MS }
const REPAIR_NAMES_PER_STATEMENT = 50

/** Rollup buckets the continuous queries will no longer revisit, grouped into runs of adjacent buckets. */
export function repairsFor (rows: OutboxRow[], shipMs: number, resample: Record<Rollup['name'], Resample>): RollupRepair[] {
  const repairs: RollupRepair[] = []
  for (const rollup of ROLLUPS) {
    const cutoff = shipMs - lateAfterMs(rollup, resample[rollup.name])
    const buckets = new Map<number, Set<string>>()
    for (const r of rows) {
      if (r.atMs >= cutoff) continue
      const b = Math.floor(r.atMs / rollup.intervalMs) * rollup.intervalMs
      let names = buckets.get(b)
      if (names === undefined) buckets.set(b, names = new Set())
      names.add(r.name)
    }
    let cur: RollupRepair | undefined
    for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
      if (cur !== undefined && b <= cur.toMs) {
        cur.toMs = b + rollup.intervalMs
        for (const n of buckets.get(b) ?? []) if (!cur.names.includes(n)) cur.names.push(n)
      } else {
        cur = { resolution: rollup.name, fromMs: b, toMs: b + rollup.intervalMs, names: [...buckets.get(b) ?? []] }
        repairs.push(cur)
      }
    }
  }
  return repairs
}

/** Recompute rollup buckets that late samples went into; true when all pending repairs are done. */
export async function repairPending (link: InfluxLink, outbox: MetricOutbox, health: Health): Promise<boolean> {
  const pending = outbox.peekRepairs(1000)
  if (pending.length === 0) return true
  let written = 0
  for (const rollup of ROLLUPS) {
    for (const range of mergeRanges(pending.filter((p) => p.resolution === rollup.name))) {
      const window = REPAIR_WINDOW_MS[rollup.name]
      for (let from = range.fromMs; from < range.toMs; from += window) {
        const to = Math.min(range.toMs, from + window)
        for (let i = 0; i < range.names.length; i += REPAIR_NAMES_PER_STATEMENT) {
          const names = range.names.slice(i, i + REPAIR_NAMES_PER_STATEMENT)
          try {
            const res = await execRaw(link, repairStatement(link.db, rollup, names, from, to), `rolling up late samples into ${rollup.rp}`)
            const n = res.results?.[0]?.series?.[0]?.values?.[0]?.[1]
            if (typeof n === 'number') written += n
          } catch (err) {
            const f = describeFailure(err, `rolling up late samples into ${rollup.rp}`, link.conn, link.db)
            if (f.kind === 'rejected') {
              // The statement itself is wrong: retrying cannot help, and must not block the others.
              link.log.error({ from, to, names }, f.message)
              continue
            }
            health.fail(f)
            return false
          }
        }
      }
    }
  }
  outbox.removeRepairs(pending[pending.length - 1].id)
  link.log.debug({ repairs: pending.length, bucketsWritten: written }, 'rolled up late samples')
  health.succeed()
  return true
}

function mergeRanges (repairs: RollupRepair[]): RollupRepair[] {
  const sorted = [...repairs].sort((a, b) => a.fromMs - b.fromMs)
  const out: RollupRepair[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && r.fromMs <= last.toMs) {
      last.toMs = Math.max(last.toMs, r.toMs)
      for (const n of r.names) if (!last.names.includes(n)) last.names.push(n)
    } else {
      out.push({ ...r, names: [...r.names] })
    }
  }
  return out
}
