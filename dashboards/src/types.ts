/** Shapes of the collector's HTTP and WebSocket answers, as the dashboards read them (see GET /docs). */

export type MachineStatus = 'healthy' | 'warning' | 'critical' | 'offline-expected' | 'silent-unexpected' | 'offline'
export const STATUSES: MachineStatus[] = ['critical', 'silent-unexpected', 'warning', 'offline', 'healthy', 'offline-expected']

export interface Worst { severity: string, title: string, incidentId?: string }

export interface MachineSummary {
  id: string
  hostname: string
  os: string
  osVersion: string
  model?: string
  user?: string
  status: MachineStatus
  worst?: Worst
  lastSeenAt: string
  lastSampledAt: string
  cpuPct?: number
  memPct?: number
  diskPct?: number
  tempC?: number
  batteryHealthPct?: number
}

export interface MachineList {
  total: number
  offset: number
  items: MachineSummary[]
  counts: Partial<Record<MachineStatus, number>>
}

export interface MetricValue { name: string, unit: string, value: number, labels?: Record<string, string> }
export interface Unavailable { probe: string, reason: string }

export interface HostFacts {
  hostname: string
  os: string
  osVersion: string
  kernel: string
  arch: string
  manufacturer?: string
  model?: string
  serial?: string
  cpuModel?: string
  cpuCores?: number
  memTotalBytes?: number
  agentVersion: string
  bootTime?: string
  user?: string
}

export interface MachineDetail {
  id: string
  hostname: string
  status: MachineStatus
  worst?: Worst
  host: HostFacts
  online: boolean
  streaming: boolean
  firstSeenAt: string
  lastSeenAt: string
  lastSampledAt: string
  lastSeq: number
  clockSkewMs: number
  droppedReports: number
  latest: MetricValue[]
  unavailable: Unavailable[]
  inventoryHash: string | null
}

export interface SeriesInfo { name: string, labels: Record<string, string>, unit: string }
export interface SeriesData extends SeriesInfo { points: Array<[number, number]>, resolution?: string }

export interface InstalledApp { name: string, version: string, source?: string }
export interface InventoryChange { atMs: number, name: string, source: string, from: string | null, to: string | null }

export type IncidentState = 'open' | 'acknowledged' | 'resolved' | 'auto-resolved' | 'regressed' | 'verified'
export type Severity = 'info' | 'warning' | 'critical'

export interface Suggestion { articleId: string, title: string, score: number, resolvedCount: number }
export interface TimelineEntry { at: string, type: string, by?: string, text?: string }

export interface Incident {
  id: string
  machineId: string
  hostname: string
  key: string
  kind: string
  severity: Severity
  state: IncidentState
  title: string
  openedAt: string
  updatedAt: string
  lastSeenAt: string
  count: number
  flapping: boolean
  acknowledgedBy?: string
  assignee?: string
  resolvedAt?: string
  resolution?: string
  /** finding values; `window` holds the series around detection (points [ms, value]) */
  evidence?: Record<string, unknown>
  series?: string
  impactAt?: string
  suspectedChange?: { app: string, from?: string, to?: string, affected: number, updated: number }
  parentId?: string
  regressedFrom?: string
  suggestions?: Suggestion[]
  timeline?: TimelineEntry[]
}

export interface IncidentList { total: number, items: Incident[] }

export const FINDING_KINDS = ['threshold', 'anomaly', 'forecast', 'offline', 'outlier', 'change'] as const

export interface KbArticle {
  id: string
  title: string
  symptoms: string
  cause: string
  /** fix steps, in order */
  steps: string[]
  tags: string[]
  findingKinds?: string[]
  version?: number
  snippet?: string
  resolvedCount?: number
  updatedAt?: string
  createdAt?: string
  score?: number
}

/** A frame on /api/v1/live. */
export type LiveEvent =
  | { type: 'machine', machine: MachineSummary }
  | { type: 'report', machineId: string, atMs: number, seq: number, metrics: MetricValue[], unavailable: Unavailable[] }
  | { type: 'incident', change: string, incident: Incident }
