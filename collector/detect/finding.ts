/**
 * What the detectors report: a finding opens (or escalates) or clears one
 * incident, identified by (machineId, key). The incidents layer dedups on that
 * pair; detectors never emit two opens for the same pair without a clear in
 * between, except to escalate severity.
 */

export type FindingKind = 'threshold' | 'anomaly' | 'forecast' | 'offline' | 'outlier' | 'change'
export type Severity = 'info' | 'warning' | 'critical'

/** A suspected cause: an application version change shared by affected machines. */
export interface SuspectedChange {
  app: string
  /** the most common previous version, when known */
  from?: string
  to: string
  /** machines that updated and then had this kind of finding */
  affected: number
  /** machines that made this update */
  updated: number
}

export interface Finding {
  machineId: string
  /** stable dedup key, e.g. `rule:disk_full:fs.used_pct{mount="/"}`; one open incident per (machine, key) */
  key: string
  kind: FindingKind
  /** 'clear' when the condition went away (with hysteresis) */
  state: 'open' | 'clear'
  severity: Severity
  /** seriesKey of the series concerned */
  series?: string
  /** sample time that triggered it, epoch ms */
  atMs: number
  /** short human text, e.g. 'Disk / will be full in 2.3 days' */
  title: string
  /** values, thresholds, baseline, recent points (bounded) */
  evidence: Record<string, unknown>
  /** forecasts: predicted time of impact, epoch ms */
  impactAtMs?: number
  /** change correlation */
  suspectedChange?: SuspectedChange
}

/** machineId of fleet-wide findings (never a valid agent id). */
export const FLEET_MACHINE_ID = '*'
