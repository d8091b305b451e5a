/**
 * The audit log: every technician action and security event (sign-ins, failed
 * ones, token and user changes, enrollment, agent revocation and rotation), kept
 * by the store behind `AuditLog` (audit-log.ts), queryable by admins
 * (GET /api/v1/admin/audit).
 *
 * Any area records an action with `audit(app, { actor, action, target, detail })`;
 * `actorOf(request)` names who made a request. Recording never throws: a full disk
 * must not turn a technician's action into a 500 (the failure is logged instead).
 */
import type { FastifyRequest } from 'fastify'
import { redactSecrets } from '../core/secrets.js'
import type { AuditEntry, AuditLog } from './audit-log.js'

export { AUDIT_MAX_ROWS, type AuditEntry, type AuditLog, type AuditQuery, type AuditRecord } from './audit-log.js'

interface Logger { warn: (o: object, m: string) => void }

/** Field bounds, applied before any store sees the entry. */
const BOUNDS = { actor: 200, action: 100, target: 200, ip: 64, detailJson: 4000 } as const

/** Records one action. Never throws. */
export function audit (host: { auditLog: AuditLog, now: () => number, log?: Logger }, entry: AuditEntry): void {
  try {
    const bounded: AuditEntry = { actor: entry.actor.slice(0, BOUNDS.actor), action: entry.action.slice(0, BOUNDS.action) }
    if (entry.target !== undefined) bounded.target = entry.target.slice(0, BOUNDS.target)
    if (entry.ip !== undefined) bounded.ip = entry.ip.slice(0, BOUNDS.ip)
    if (entry.detail !== undefined) bounded.detail = boundedDetail(entry.detail)
    host.auditLog.record(host.now(), bounded)
  } catch (err) {
    host.log?.warn({ err: (err as Error).message, action: entry.action }, 'audit record failed')
  }
}

/** The detail with anything shaped like a token redacted, at most 4000 characters of JSON (cut, then kept as `{ truncated }`). */
function boundedDetail (detail: Record<string, unknown>): Record<string, unknown> {
  const json = redactSecrets(JSON.stringify(detail))
  if (json.length <= BOUNDS.detailJson) return JSON.parse(json) as Record<string, unknown>
  return { truncated: json.slice(0, BOUNDS.detailJson) }
}

/** Who made a request, for the `actor` field. */
export function actorOf (request: FastifyRequest): string {
  if (request.user !== undefined) return `user:${request.user.username}`
  if (request.technician !== undefined) return `token:${request.technician.id}`
  if (request.agent !== undefined) return `agent:${request.agent.id}`
  return 'anonymous'
}
