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
  async tick (): Promise<void> {
    const now = this.#ctx.now()
    const p = this.#ctx.policy
    for (const inc of await this.#ctx.store.timed(now, p.maxEscalations)) {
      try {
        await this.#ctx.store.transaction(async () => {
          const fresh = await this.#ctx.store.get(inc.id)
          if (fresh === undefined) return
          if (ACTIVE_STATES.includes(fresh.state)) {
            const hold = fresh.flapping ? Math.max(p.holdMs, p.flapWindowMs) : p.holdMs
            if (fresh.clearedMs !== null && now - fresh.clearedMs >= hold) {
              await this.#autoResolve(fresh, now, `clear for ${Math.round((now - fresh.clearedMs) / 1000)} s`)
            } else if (fresh.machineId === FLEET && await this.#childrenDone(fresh)) {
              await this.#autoResolve(fresh, now, 'every grouped incident is resolved')
            } else if (p.escalateMs > 0 && fresh.state !== 'acknowledged' && fresh.escalations < p.maxEscalations &&
              now - (fresh.escalatedMs ?? fresh.openedMs) >= p.escalateMs && fresh.conditionOpen) {
              await this.#escalate(fresh, now)
            }
          } else if (fresh.state === 'resolved' && fresh.verifyUntilMs !== null && fresh.verifyUntilMs <= now) {
            if (fresh.conditionOpen && fresh.kind !== 'change' && fresh.machineId !== FLEET) {
              await regress(this.#ctx, fresh, now, 'The condition was still present at the end of the verification period')
            } else {
              fresh.state = 'verified'
              fresh.updatedMs = now
              await this.#ctx.store.addTimeline(fresh.id, now, 'verified', { text: `no recurrence for ${Math.round(p.verifyMs / 3_600_000 * 10) / 10} h after the resolution` })
              await this.#ctx.kb.setOutcome(fresh.id, 'verified')
              await this.#ctx.store.save(fresh)
              await this.#ctx.publish('verified', fresh, 'incident.verified')
            }
          }
        })
      } catch (err) {
        this.#ctx.log.warn({ err, incident: inc.id }, 'incident timer failed')
      }
    }
    await this.#ctx.store.pruneOpens(now - p.flapWindowMs)
    await this.#ctx.store.pruneSilences(now - 30 * 86_400_000)
  }

  async #childrenDone (parent: IncidentRow): Promise<boolean> {
    const kids = await this.#ctx.store.children(parent.id)
    return kids.length > 0 && kids.every((k) => !ACTIVE_STATES.includes(k.state))
  }

  async #autoResolve (inc: IncidentRow, now: number, why: string): Promise<void> {
    inc.state = 'auto-resolved'
    inc.resolvedMs = now
    inc.resolvedBy = SYSTEM
    inc.resolution = `Recovered: ${why}`
    inc.updatedMs = now
    await this.#ctx.store.addTimeline(inc.id, now, 'auto-resolved', { text: inc.resolution })
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('resolved', inc, 'incident.resolved')
  }

  async #escalate (inc: IncidentRow, now: number): Promise<void> {
    const silence = findSilence(await this.#ctx.store.silences(now), { machineId: inc.machineId, group: this.#ctx.groupOf(inc.machineId), key: inc.key }, now)
    if (silence !== undefined) return
    const from = inc.severity
    inc.severity = from === 'info' ? 'warning' : 'critical'
    inc.escalations++
    inc.escalatedMs = now
    inc.updatedMs = now
    await this.#ctx.store.addTimeline(inc.id, now, 'escalated', { text: `unacknowledged for ${Math.round((now - inc.openedMs) / 60_000)} min: ${from} → ${inc.severity}` })
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('updated', inc, 'incident.updated', 'escalated')
  }
}
