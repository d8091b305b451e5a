/**
 * Shapes of the collector's HTTP and WebSocket answers, as the dashboards read them.
 * Type-only imports: the wire types from protocol/, the API answers from the schemas
 * beside their routes, so a change there is a type error here (the bundle holds none
 * of it: esbuild drops type imports).
 */
import type { MachineStatus } from '../../collector/machines/status.js'
import type { IncidentDetail, IncidentState, Incident as IncidentItem } from '../../collector/incidents/model.js'
import type { ArticleHit } from '../../collector/kb/model.js'

export type { MetricValue, Unavailable, HostFacts, InstalledApp } from '../../protocol/index.js'
export type { MachineStatus, Worst } from '../../collector/machines/status.js'
export type { MachineSummary, MachineList, MachineDetail } from '../../collector/machines/schema.js'
export type { SeriesInfo, SeriesResult as SeriesData } from '../../collector/store/metric-store.js'
export type { InventoryChange } from '../../collector/store/sqlite/registry.js'
export type { IncidentState, Severity, Suggestion, TimelineEntry, IncidentList } from '../../collector/incidents/model.js'

/** An incident from the list (no timeline) or from its detail page (with it). */
export type Incident = IncidentItem & Partial<Pick<IncidentDetail, 'timeline' | 'children'>>
export type { LiveFrame as LiveEvent } from '../../collector/live/model.js'

/** Worst first: the order of the fleet's status filters. */
export const STATUSES: MachineStatus[] = ['critical', 'silent-unexpected', 'warning', 'offline', 'healthy', 'offline-expected']

export const FINDING_KINDS = ['threshold', 'anomaly', 'forecast', 'offline', 'outlier', 'change'] as const

/** An article as the list (with search score and snippet) and the detail page show it. */
export type KbArticle = ArticleHit
export type { ArticleBody as KbArticleBody } from '../../collector/kb/model.js'

/** Compile-time checks that the lists above name every value of their types. */
type Exhaustive<T extends readonly unknown[], U> = [U] extends [T[number]] ? true : never
const _statuses: Exhaustive<typeof STATUSES, MachineStatus> = true
const _states: IncidentState extends string ? true : never = true
void _statuses; void _states
