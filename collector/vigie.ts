/** The collector's shared services, built once by buildApp and handed to each area's plugin. */
import type { CollectorConfig } from './core/config.js'
import type { Registry } from './store/sqlite/registry.js'
import type { MetricStore } from './store/metric-store.js'
import type { Db } from './store/sqlite/db.js'
import type { CollectorEvents } from './core/events.js'
import type { IngestService } from './ingest/ingest.js'
import type { AgentStreams } from './ingest/streams.js'
import type { LiveHub } from './live/hub.js'
import type { Counters } from './ops/counters.js'
import type { MachineStatusBoard } from './machines/status.js'
import type { FleetIndex } from './machines/fleet-index.js'
import type { IncidentService } from './incidents/service.js'
import type { KnowledgeBase } from './kb/knowledge-base.js'
import type { WebhookNotifier } from './notify/webhooks.js'
import type { DetectionClient } from './detect/remote.js'

export interface Vigie {
  config: CollectorConfig
  db: Db
  registry: Registry
  metrics: MetricStore
  events: CollectorEvents
  ingest: IngestService
  streams: AgentStreams
  live: LiveHub
  counters: Counters
  status: MachineStatusBoard
  /** the fleet list in memory, kept current by ingest */
  fleet: FleetIndex
  now: () => number
  /** set by the incidents plugin */
  incidents?: IncidentService
  kb?: KnowledgeBase
  notifier?: WebhookNotifier
  /** set by the trust plugin: whether this agent should exchange its token now */
  tokenRotationDue?: (agentId: string) => boolean
  /** set by detect-wiring */
  detection?: DetectionClient
}
