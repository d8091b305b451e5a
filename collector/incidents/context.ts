/**
 * What the parts of the incident service share: the store, the policy, the clock,
 * the knowledge base, where a change is announced, and the transitions more than
 * one part makes (an incident regressing, an incident back in play).
 */
import type { Finding } from '../detect/engine.js'
import type { KnowledgeBase } from '../kb/knowledge-base.js'
import type { WebhookEventType } from '../notify/payload.js'
import type { IncidentChange } from './model.js'
import { SEVERITY_RANK } from './model.js'
import { iso, SYSTEM, type IncidentPolicy } from './policy.js'
import type { IncidentRow } from './rows.js'
import type { IncidentRepository } from './repository.js'

export interface IncidentContext {
  readonly store: IncidentRepository
  readonly policy: IncidentPolicy
  readonly kb: KnowledgeBase
  now: () => number
  hostnameOf: (machineId: string) => string | undefined
  groupOf: (machineId: string) => string | undefined
  onFolded: (machineId: string) => void
  log: { warn: (obj: object, msg: string) => void }
  /** the live event always; the webhook event when given and allowed (IncidentService) */
  publish: (change: IncidentChange, inc: IncidentRow, webhook?: WebhookEventType, detail?: string, text?: string) => Promise<void>
}

/** The problem came back (or never left) after a technician's resolution: regressed, with what did not hold. */
export async function regress (ctx: IncidentContext, inc: IncidentRow, now: number, text: string, f?: Finding): Promise<void> {
  inc.regressedFrom = {
    resolvedAt: iso(inc.resolvedMs ?? now),
    resolvedBy: inc.resolvedBy ?? SYSTEM,
    resolution: inc.resolution ?? '',
    ...(inc.articleId !== null ? { articleId: inc.articleId } : {})
  }
  reactivate(inc, 'regressed', now)
  if (f !== undefined) {
    inc.count++
    inc.lastSeenMs = now
    inc.conditionOpen = true
    if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[inc.severity]) inc.severity = f.severity
  }
  await ctx.store.addTimeline(inc.id, now, 'regressed', { text: `${text} (resolution of ${inc.regressedFrom.resolvedAt} by ${inc.regressedFrom.resolvedBy} did not hold)` })
  await ctx.kb.setOutcome(inc.id, 'regressed')
  await ctx.store.save(inc)
  await ctx.publish('regressed', inc, 'incident.regressed')
}

/** An incident back in play (regressed or reopened): its resolution, acknowledgement and escalation start over. */
export function reactivate (inc: IncidentRow, state: 'open' | 'regressed', now: number): void {
  inc.state = state
  inc.resolvedMs = null
  inc.resolvedBy = null
  inc.resolution = null
  inc.verifyUntilMs = null
  inc.acknowledgedBy = null
  inc.acknowledgedMs = null
  inc.clearedMs = null
  inc.escalations = 0
  inc.escalatedMs = null
  inc.updatedMs = now
}
