/**
 * The frames of /api/v1/live, as the dashboards receive them. The collector's
 * areas publish them through core events (which carry any `{ type }`); this union
 * is the one description of what each frame holds.
 */
import type { MetricValue, Unavailable } from '../../protocol/index.js'
import type { MachineSummary } from '../machines/schema.js'
import type { Incident, IncidentChange } from '../incidents/model.js'
import type { Finding } from '../detect/finding.js'

export type LiveFrame =
  | { type: 'machine', machine: MachineSummary }
  | { type: 'report', machineId: string, atMs: number, seq: number, metrics: MetricValue[], unavailable: Unavailable[] }
  | { type: 'incident', change: IncidentChange, incident: Incident }
  /** a detector's anomaly opening or clearing (the dashboard marks it on the machine's chart) */
  | { type: 'anomaly', machineId: string, atMs: number, series?: string, state: Finding['state'], title: string }
