/**
 * An incident as the service handles it (IncidentRow, times in epoch ms), as its
 * table holds it (RawIncident) and as the API shows it (incidentJson); silences.
 */
import type { Incident, IncidentState, Severity } from './model.js'
import { iso } from './policy.js'

/** One incident row, with times in epoch ms; `toJson` gives the API shape. */
export interface IncidentRow {
  id: string
  machineId: string
  hostname: string
  key: string
  kind: Incident['kind']
  severity: Severity
  state: IncidentState
  title: string
  series: string | null
  openedMs: number
  updatedMs: number
  lastSeenMs: number
  count: number
  flapping: boolean
  /** the detector's last word on this (machine, key) was 'open' */
  conditionOpen: boolean
  /** when the condition cleared; auto-resolve after the hold time */
  clearedMs: number | null
  acknowledgedBy: string | null
  acknowledgedMs: number | null
  assignee: string | null
  escalations: number
  escalatedMs: number | null
  resolvedMs: number | null
  resolvedBy: string | null
  resolution: string | null
  /** KB article documented or used by the resolution */
  articleId: string | null
  verifyUntilMs: number | null
  evidence: Record<string, unknown>
  impactMs: number | null
  suspectedChange: Incident['suspectedChange'] | null
  parentId: string | null
  regressedFrom: Incident['regressedFrom'] | null
  suggestions: Array<{ articleId: string, score: number }>
  /** an 'opened' webhook went out, so later events follow it */
  notified: boolean
}

export interface Silence {
  id: string
  machineId?: string
  group?: string
  keyPattern?: string
  fromMs: number
  untilMs: number
  reason: string
  createdBy: string
  createdMs: number
  matched: number
}

export interface RawIncident {
  id: string, machine_id: string, hostname: string, key: string, kind: string, severity: string, state: string, title: string,
  series: string | null, opened_ms: number, updated_ms: number, last_seen_ms: number, count: number, flapping: number,
  condition_open: number, cleared_ms: number | null, acknowledged_by: string | null, acknowledged_ms: number | null,
  assignee: string | null, escalations: number, escalated_ms: number | null, resolved_ms: number | null, resolved_by: string | null,
  resolution: string | null, article_id: string | null, verify_until_ms: number | null, evidence_json: string, impact_ms: number | null,
  suspected_change_json: string | null, parent_id: string | null, regressed_from_json: string | null, suggestions_json: string,
  notified: number
}

export function fromRaw (r: RawIncident): IncidentRow {
  return {
    id: r.id,
    machineId: r.machine_id,
    hostname: r.hostname,
    key: r.key,
    kind: r.kind as IncidentRow['kind'],
    severity: r.severity as Severity,
    state: r.state as IncidentState,
    title: r.title,
    series: r.series,
    openedMs: r.opened_ms,
    updatedMs: r.updated_ms,
    lastSeenMs: r.last_seen_ms,
    count: r.count,
    flapping: r.flapping === 1,
    conditionOpen: r.condition_open === 1,
    clearedMs: r.cleared_ms,
    acknowledgedBy: r.acknowledged_by,
    acknowledgedMs: r.acknowledged_ms,
    assignee: r.assignee,
    escalations: r.escalations,
    escalatedMs: r.escalated_ms,
    resolvedMs: r.resolved_ms,
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    articleId: r.article_id,
    verifyUntilMs: r.verify_until_ms,
    evidence: JSON.parse(r.evidence_json) as Record<string, unknown>,
    impactMs: r.impact_ms,
    suspectedChange: r.suspected_change_json === null ? null : JSON.parse(r.suspected_change_json) as Incident['suspectedChange'],
    parentId: r.parent_id,
    regressedFrom: r.regressed_from_json === null ? null : JSON.parse(r.regressed_from_json) as Incident['regressedFrom'],
    suggestions: JSON.parse(r.suggestions_json) as IncidentRow['suggestions'],
    notified: r.notified === 1
  }
}

export function toRaw (i: IncidentRow): RawIncident {
  return {
    id: i.id,
    machine_id: i.machineId,
    hostname: i.hostname,
    key: i.key,
    kind: i.kind,
    severity: i.severity,
    state: i.state,
    title: i.title,
    series: i.series,
    opened_ms: i.openedMs,
    updated_ms: i.updatedMs,
    last_seen_ms: i.lastSeenMs,
    count: i.count,
    flapping: i.flapping ? 1 : 0,
    condition_open: i.conditionOpen ? 1 : 0,
    cleared_ms: i.clearedMs,
    acknowledged_by: i.acknowledgedBy,
    acknowledged_ms: i.acknowledgedMs,
    assignee: i.assignee,
    escalations: i.escalations,
    escalated_ms: i.escalatedMs,
    resolved_ms: i.resolvedMs,
    resolved_by: i.resolvedBy,
    resolution: i.resolution,
    article_id: i.articleId,
    verify_until_ms: i.verifyUntilMs,
    evidence_json: JSON.stringify(i.evidence),
    impact_ms: i.impactMs,
    suspected_change_json: i.suspectedChange === null || i.suspectedChange === undefined ? null : JSON.stringify(i.suspectedChange),
    parent_id: i.parentId,
    regressed_from_json: i.regressedFrom === null || i.regressedFrom === undefined ? null : JSON.stringify(i.regressedFrom),
    suggestions_json: JSON.stringify(i.suggestions),
    notified: i.notified ? 1 : 0
  }
}

export const COLUMNS = Object.keys(toRaw({
  id: '', machineId: '', hostname: '', key: '', kind: 'threshold', severity: 'info', state: 'open', title: '', series: null, openedMs: 0,
  updatedMs: 0, lastSeenMs: 0, count: 0, flapping: false, conditionOpen: true, clearedMs: null, acknowledgedBy: null, acknowledgedMs: null,
  assignee: null, escalations: 0, escalatedMs: null, resolvedMs: null, resolvedBy: null, resolution: null, articleId: null, verifyUntilMs: null,
  evidence: {}, impactMs: null, suspectedChange: null, parentId: null, regressedFrom: null, suggestions: [], notified: false
}))

export const ACTIVE_SQL = "state IN ('open', 'acknowledged', 'regressed')"


/** The API shape (without timeline); `suggestions` are filled in by the caller. */
export function incidentJson (i: IncidentRow, suggestions: Incident['suggestions'] = []): Incident {
  const out: Incident = {
    id: i.id,
    machineId: i.machineId,
    hostname: i.hostname,
    key: i.key,
    kind: i.kind,
    severity: i.severity,
    state: i.state,
    title: i.title,
    openedAt: iso(i.openedMs),
    updatedAt: iso(i.updatedMs),
    lastSeenAt: iso(i.lastSeenMs),
    count: i.count,
    flapping: i.flapping,
    evidence: i.evidence,
    suggestions
  }
  if (i.series !== null) out.series = i.series
  if (i.acknowledgedBy !== null) out.acknowledgedBy = i.acknowledgedBy
  if (i.acknowledgedMs !== null) out.acknowledgedAt = iso(i.acknowledgedMs)
  if (i.assignee !== null) out.assignee = i.assignee
  if (i.resolvedMs !== null) out.resolvedAt = iso(i.resolvedMs)
  if (i.resolvedBy !== null) out.resolvedBy = i.resolvedBy
  if (i.resolution !== null) out.resolution = i.resolution
  if (i.verifyUntilMs !== null) out.verifyUntil = iso(i.verifyUntilMs)
  if (i.impactMs !== null) out.impactAt = iso(i.impactMs)
  if (i.suspectedChange !== null && i.suspectedChange !== undefined) out.suspectedChange = i.suspectedChange
  if (i.parentId !== null) out.parentId = i.parentId
  if (i.regressedFrom !== null && i.regressedFrom !== undefined) out.regressedFrom = i.regressedFrom
  return out
}

/** Timeline entries kept per incident; detector-driven entries stop there, people's entries never do. */
