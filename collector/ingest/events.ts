/**
 * In-process events between collector areas: ingest announces what it stored;
 * detection, incidents and the live hub listen. Listeners must not throw.
 */
import { EventEmitter } from 'node:events'
import type { Report } from '../../protocol/index.js'
import type { InventoryChange } from '../store/sqlite/registry.js'
import type { LatestValues } from '../store/latest-values.js'

export interface AcceptedReports {
  machineId: string
  receivedMs: number
  accepted: Array<{ report: Report, atMs: number, latest?: LatestValues }>
  inventoryChanges: InventoryChange[]
}

export interface CollectorEventMap {
  reports: [AcceptedReports]
  live: [LiveEvent]
}

/** What the dashboards receive on /api/v1/live. */
export interface LiveEvent {
  type: string
  [k: string]: unknown
}

export class CollectorEvents extends EventEmitter<CollectorEventMap> {}
