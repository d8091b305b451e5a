/**
 * Where the detection area keeps what outlives a restart: the engine's learned
 * state (per machine, and fleet-wide) and the anomaly log (learned anomalies at
 * `info`: hints, not incidents). Interfaces every store implements (SQLite in
 * sqlite-stores.ts), with their contracts in test/collector/detect/contracts.ts.
 */
import type { Finding } from './finding.js'

export interface SavedDetectionState {
  /** [machine id, the engine's exported JSON for it] */
  machines: Array<[string, string]>
  /** the fleet-wide part (cohorts, change correlation), when saved */
  global?: string
}

export interface DetectionStateStore {
  /** Everything saved, to hand back to the engine at start or after a worker restart. */
  load: () => Promise<SavedDetectionState>
  /** Saves these machines' state (and the global part, when given) in one transaction, replacing what was there. */
  save: (savedMs: number, state: SavedDetectionState) => Promise<void>
}

export interface AnomalyEntry {
  atMs: number
  series: string
  state: Finding['state']
  title: string
  evidence: Record<string, unknown>
}

export interface AnomalyLog {
  /** Keeps one hint (synchronous for the embedded store; a network store queues it). May throw: the caller logs it. */
  record: (f: Finding) => void
  /** A machine's hints, newest first, at most `limit`. */
  list: (machineId: string, limit: number) => Promise<AnomalyEntry[]>
  /** Drops hints older than `beforeMs`; resolves with how many. */
  prune: (beforeMs: number) => Promise<number>
}
