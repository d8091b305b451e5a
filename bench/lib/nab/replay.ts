/**
 * Replaying recorded points through the engine, one at a time and in order,
 * exactly as the collector feeds it (DetectionEngine.observePoint). Shared by
 * scripts/replay.ts, bench/nab.ts and the NAB floor test.
 */
import { seriesKey } from '../../../protocol/series.js'
import { DetectionEngine, type EngineOptions, type Finding } from '../../../collector/detect/engine.js'
import { nabTimestampMs, type NabSeries } from './dataset.js'

/**
 * Feed `values` (times in epoch ms) as one series of one machine.
 * Returns one 0/1 per row: 1 exactly where a new finding opened for that series.
 */
export function replayPoints (engine: DetectionEngine, machineId: string, series: string, timesMs: ArrayLike<number>, values: ArrayLike<number>,
  onFinding?: (f: Finding, row: number) => void): Uint8Array {
  const alerts = new Uint8Array(values.length)
  // an 'open' for a key already open is an update (escalation), not a new finding
  const open = new Set<string>()
  for (let i = 0; i < values.length; i++) {
    const found = engine.observePoint(machineId, series, timesMs[i], values[i])
    for (const f of found) {
      if (f.state === 'clear') open.delete(f.key)
      else if (!open.has(f.key)) {
        open.add(f.key)
        if (f.series === series) alerts[i] = 1
      }
      onFinding?.(f, i)
    }
  }
  return alerts
}

/** The series key a NAB file is replayed as (a metric no threshold rule knows). */
export function nabSeriesKey (s: NabSeries): string {
  return seriesKey('nab.value', { file: `${s.subset}/${s.name}` })
}

/** Replay one NAB file through a fresh engine; rows are taken by position. */
export function replayNab (s: NabSeries, opts: EngineOptions = {}): Uint8Array {
  const engine = new DetectionEngine(opts)
  return replayPoints(engine, 'nab', nabSeriesKey(s), s.timestamps.map(nabTimestampMs), s.values)
}
