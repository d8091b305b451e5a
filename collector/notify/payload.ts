/**
 * The JSON body every webhook receives: the event, the incident, and a `ticket`
 * block already mapped to what ticketing tools need (external id, title,
 * status, priority, description, comment). docs/webhooks.md maps it onto GLPI,
 * Zammad, Jira Service Management, Freshdesk and osTicket.
 */
import type { Incident } from '../incidents/model.js'

export const WEBHOOK_EVENTS = ['incident.opened', 'incident.updated', 'incident.resolved', 'incident.regressed', 'incident.verified'] as const
export type WebhookEventType = typeof WEBHOOK_EVENTS[number]

export type TicketStatus = 'open' | 'in-progress' | 'resolved' | 'reopened' | 'closed'
export type TicketPriority = 'low' | 'normal' | 'high' | 'urgent'

export interface TicketFields {
  /** stable across every event of the incident: use it to find the ticket to update */
  externalId: string
  title: string
  status: TicketStatus
  priority: TicketPriority
  /** plain text, several lines: what, where, since when, evidence, suggested fixes */
  description: string
  /** what this event adds, for a ticket comment */
  comment: string
  assignee?: string
}

export interface WebhookPayload {
  /** event id; also sent as the `Idempotency-Key` header */
  id: string
  type: WebhookEventType
  /** finer reason for incident.updated: acknowledged, assigned, note, escalated, severity, flapping, reopened, grouped */
  change?: string
  createdAt: string
  incident: Incident
  ticket: TicketFields
}

const PRIORITY: Record<Incident['severity'], TicketPriority> = { info: 'low', warning: 'normal', critical: 'high' }

function ticketStatus (type: WebhookEventType, i: Incident, change?: string): TicketStatus {
  if (type === 'incident.verified') return 'closed'
  if (type === 'incident.regressed' || change === 'reopened') return 'reopened'
  if (i.state === 'resolved' || i.state === 'auto-resolved') return 'resolved'
  if (i.state === 'verified') return 'closed'
  if (i.state === 'acknowledged' || i.assignee !== undefined) return 'in-progress'
  return 'open'
}

/** Builds the payload of one event (pure; the caller stores it in the outbox). */
export function buildPayload (id: string, type: WebhookEventType, incident: Incident, atMs: number, change?: string, text?: string): WebhookPayload {
  const lines = [
    incident.title,
    '',
    `Machine: ${incident.hostname} (${incident.machineId})`,
    `Severity: ${incident.severity}   Kind: ${incident.kind}   Key: ${incident.key}`,
    `Opened: ${incident.openedAt}   Seen ${incident.count} time(s), last ${incident.lastSeenAt}`
  ]
  if (incident.impactAt !== undefined) lines.push(`Predicted impact: ${incident.impactAt}`)
  if (incident.suspectedChange !== undefined) {
    const c = incident.suspectedChange
    lines.push(`Suspected change: ${c.app}${c.from !== undefined ? ` ${c.from}` : ''} → ${c.to} (${c.affected} of ${c.updated} updated machines affected)`)
  }
  if (incident.flapping) lines.push('Flapping: the condition comes and goes; the incident is held open.')
  if (incident.suggestions.length > 0) {
    lines.push('', 'Suggested fixes:')
    for (const s of incident.suggestions) lines.push(`- ${s.title} (KB ${s.articleId}, resolved ${s.resolvedCount} similar)`)
  }
  const comment = text ?? defaultComment(type, incident, change)
  const priority = incident.severity === 'critical' && change === 'escalated' ? 'urgent' : PRIORITY[incident.severity]
  const ticket: TicketFields = {
    externalId: `vigie:${incident.id}`,
    title: `[${incident.severity}] ${incident.hostname}: ${incident.title}`,
    status: ticketStatus(type, incident, change),
    priority,
    description: lines.join('\n'),
    comment
  }
  if (incident.assignee !== undefined) ticket.assignee = incident.assignee
  const p: WebhookPayload = { id, type, createdAt: new Date(atMs).toISOString(), incident, ticket }
  if (change !== undefined) p.change = change
  return p
}

function defaultComment (type: WebhookEventType, i: Incident, change?: string): string {
  switch (type) {
    case 'incident.opened': return `Opened by Vigie: ${i.title}`
    case 'incident.resolved': return i.state === 'auto-resolved' ? 'The condition cleared and stayed clear: resolved automatically.' : `Resolved by ${i.resolvedBy ?? 'a technician'}: ${i.resolution ?? ''}`
    case 'incident.regressed': return `The problem came back after the resolution of ${i.regressedFrom?.resolvedAt ?? 'earlier'} ("${i.regressedFrom?.resolution ?? ''}").`
    case 'incident.verified': return 'Follow-up: the fix held through the verification period.'
    default: return `Updated (${change ?? 'changed'}).`
  }
}
