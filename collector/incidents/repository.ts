/**
 * Where incidents, their timelines, flap history and silences are kept: the
 * interface every store implements (SQLite in sqlite-store.ts; a network
 * database later), with its contract in test/collector/incidents/contract.ts.
 *
 * Everything is asynchronous so that a network database fits. A lifecycle step
 * (a finding applied, a timer fired, a technician's command) is one
 * `transaction`: the reads that decide and the writes that follow commit
 * together, with the knowledge-base links and webhook events the step records.
 * Pure persistence: lifecycle rules live in findings.ts, timers.ts and commands.ts.
 */
import type { IncidentQuery, IncidentState, Severity, TimelineEntry } from './model.js'
import type { IncidentRow, Silence } from './rows.js'

/** Automatic timeline entries (no `by`) kept per incident; a technician's are always kept. */
export const MAX_AUTOMATIC_TIMELINE = 500

export interface WorstActive { severity: Severity, title: string, id: string }

export interface IncidentRepository {
  /**
   * Runs `fn` as one transaction: committed when it resolves, rolled back when it
   * rejects. Calls do not nest (one inside another's `fn` would wait for it). `fn`
   * awaits only this store's calls (and the stores that share its transaction),
   * never other I/O: fetch what a step needs before it.
   */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>

  /** Adds a new incident; at most one active incident per (machine, key), whatever the caller does. */
  insert: (i: IncidentRow) => Promise<void>
  /** Writes every field of an existing incident. */
  save: (i: IncidentRow) => Promise<void>
  get: (id: string) => Promise<IncidentRow | undefined>
  /** The active (open, acknowledged or regressed) incident of (machine, key), if any. */
  active: (machineId: string, key: string) => Promise<IncidentRow | undefined>
  /** Active incidents of one machine, `exceptKey` left out. */
  countActive: (machineId: string, exceptKey: string) => Promise<number>
  /** The most recently opened incident of (machine, key) in one of `states`. */
  latest: (machineId: string, key: string, states: readonly IncidentState[]) => Promise<IncidentRow | undefined>
  /**
   * Incidents whose timers may fire at `nowMs`: active ones with a pending clear,
   * fleet parents (machine `*`), unacknowledged ones with the condition open and
   * fewer than `maxEscalations`, and resolved ones whose verification watch is over.
   */
  timed: (nowMs: number, maxEscalations: number) => Promise<IncidentRow[]>
  /** Incidents grouped under `parentId`, oldest first. */
  children: (parentId: string) => Promise<IncidentRow[]>
  /** Active incidents of one key opened since `sinceMs`, on machines other than the fleet. */
  activeWithKeySince: (key: string, sinceMs: number) => Promise<IncidentRow[]>
  /** Worst active incident of a machine (severity, then newest). */
  worstActive: (machineId: string) => Promise<IncidentRow | undefined>
  /** The worst active incident of every machine that has one, in one query (the fleet list). */
  worstActiveAll: () => Promise<Map<string, WorstActive>>
  /**
   * Newest first (opened, then id), with filters; `q` matches title, hostname or key
   * as a case-insensitive substring (wildcard characters taken literally) or the id exactly.
   */
  list: (q: IncidentQuery) => Promise<{ total: number, items: IncidentRow[] }>

  /** Appends to the timeline; automatic entries (no `by`) stop at MAX_AUTOMATIC_TIMELINE. */
  addTimeline: (id: string, atMs: number, type: string, opts?: { by?: string, text?: string }) => Promise<void>
  /** In the order added. */
  timeline: (id: string) => Promise<TimelineEntry[]>

  /* flap history: when (machine, key) opened */
  recordOpen: (machineId: string, key: string, atMs: number) => Promise<void>
  opensSince: (machineId: string, key: string, sinceMs: number) => Promise<number>
  pruneOpens: (beforeMs: number) => Promise<void>

  /* silences */
  insertSilence: (s: Silence) => Promise<void>
  /** False when there was none. */
  deleteSilence: (id: string) => Promise<boolean>
  /** Silences not yet expired at `nowMs` (all when undefined), by start time. */
  silences: (nowMs?: number) => Promise<Silence[]>
  countSilenceMatch: (id: string) => Promise<void>
  /** Drops silences that ended before `beforeMs`. */
  pruneSilences: (beforeMs: number) => Promise<void>
}
