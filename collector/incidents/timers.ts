/**
 * The incidents' clocks: auto-resolve after the hold, escalation of the
 * unacknowledged, the end of the follow-up watch (verified, or regressed when the
 * condition is still there), fleet parents whose children are all done.
 */
import { regress, type IncidentContext } from './context.js'
import { ACTIVE_STATES } from './model.js'
import { FLEET, SYSTEM } from './policy.js'
import { findSilence } from './silences.js'
import type { IncidentRow } from './rows.js'

export class IncidentTimers {
  readonly #ctx: IncidentContext

  constructor (ctx: IncidentContext) { this.#ctx = ctx }

  /**
   * Runs the clocks: auto-resolve after the hold, escalation, end of the
   * verification watch, fleet parents whose children are all done. Call it
   * every few seconds; it is idempotent.
   */
  tick (): void {
    const now = this.#ctx.now()
    const p = this.#ctx.policy
    for (const inc of this.#ctx.store.timed(now, p.maxEscalations)) {
      try {
        this.#ctx.store.transaction(() => {
          const fresh = this.#ctx.store.get(inc.id)
          if (fresh === undefined) return
          if (ACTIVE_STATES.includes(fresh.state)) {
            const hold = fresh.flapping ? Math.max(p.holdMs, p.flapWindowMs) : p.holdMs
            if (fresh.clearedMs !== null && now - fresh.clearedMs >= hold) {
              this.#autoResolve(fresh, now, `clear for ${Math.round((now - fresh.clearedMs) / 1000)} s`)
            } else if (fresh.machineId === FLEET && this.#childrenDone(fresh)) {
              this.#autoResolve(fresh, now, 'every grouped incident is resolved')
            } else if (p.escalateMs > 0 && fresh.state !== 'acknowledged' && fresh.escalations < p.maxEscalations &&
              now - (fresh.escalatedMs ?? fresh.openedMs) >= p.escalateMs && fresh.conditionOpen) {
              this.#escalate(fresh, now)
            }
          } else if (fresh.state === 'resolved' && fresh.verifyUntilMs !== null && fresh.verifyUntilMs <= now) {
            if (fresh.conditionOpen && fresh.kind !== 'change' && fresh.machineId !== FLEET) {
              regress(this.#ctx, fresh, now, 'The condition was still present at the end of the verification period')
            } else {
              fresh.state = 'verified'
              fresh.updatedMs = now
              this.#ctx.store.addTimeline(fresh.id, now, 'verified', { text: `no recurrence for ${Math.round(p.verifyMs / 3_600_000 * 10) / 10} h after the resolution` })
              this.#ctx.kb.setOutcome(fresh.id, 'verified')
              this.#ctx.store.save(fresh)
              this.#ctx.publish('verified', fresh, 'incident.verified')
            }
          }
        })
      } catch (err) {
        this.#ctx.log.warn({ err, incident: inc.id }, 'incident timer failed')
      }
    }
    this.#ctx.store.pruneOpens(now - p.flapWindowMs)
    this.#ctx.store.pruneSilences(now - 30 * 86_400_000)
  }

  #childrenDone (parent: IncidentRow): boolean {
    const kids = this.#ctx.store.children(parent.id)
    return kids.length > 0 && kids.every((k) => !ACTIVE_STATES.includes(k.state))
  }

  #autoResolve (inc: IncidentRow, now: number, why: string): void {
    inc.state = 'auto-resolved'
    inc.resolvedMs = now
    inc.resolvedBy = SYSTEM
    inc.resolution = `Recovered: ${why}`
    inc.updatedMs = now
    this.#ctx.store.addTimeline(inc.id, now, 'auto-resolved', { text: inc.resolution })
    this.#ctx.store.save(inc)
    this.#ctx.publish('resolved', inc, 'incident.resolved')
  }

  #escalate (inc: IncidentRow, now: number): void {
    const silence = findSilence(this.#ctx.store.silences(now), { machineId: inc.machineId, group: this.#ctx.groupOf(inc.machineId), key: inc.key }, now)
    if (silence !== undefined) return
    const from = inc.severity
    inc.severity = from === 'info' ? 'warning' : 'critical'
    inc.escalations++
    inc.escalatedMs = now
    inc.updatedMs = now
    this.#ctx.store.addTimeline(inc.id, now, 'escalated', { text: `unacknowledged for ${Math.round((now - inc.openedMs) / 60_000)} min: ${from} → ${inc.severity}` })
    this.#ctx.store.save(inc)
    this.#ctx.publish('updated', inc, 'incident.updated', 'escalated')
  }
}
