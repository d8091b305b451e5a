/**
 * What technicians do to an incident: acknowledge, assign, note, resolve (with the
 * fix documented in the knowledge base if they say so; a fleet parent resolves its
 * children) and reopen. Each is one transaction and answers the incident's detail.
 */
import { VigieError } from '../core/errors.js'
import { reactivate, type IncidentContext } from './context.js'
import { familyPattern } from './key-pattern.js'
import { ACTIVE_STATES, type IncidentDetail, type IncidentState, type ResolveBody } from './model.js'
import type { IncidentRow } from './rows.js'

export class IncidentCommands {
  readonly #ctx: IncidentContext
  readonly #detail: (id: string) => IncidentDetail

  constructor (ctx: IncidentContext, detail: (id: string) => IncidentDetail) {
    this.#ctx = ctx
    this.#detail = detail
  }

  /** The incident, or VIGIE_ERR_NOT_FOUND. */
  require (id: string): IncidentRow {
    const inc = this.#ctx.store.get(id)
    if (inc === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no incident ${id}`)
    return inc
  }

  #requireState (inc: IncidentRow, allowed: readonly IncidentState[], action: string): void {
    if (!allowed.includes(inc.state)) {
      throw new VigieError('VIGIE_ERR_CONFLICT', `cannot ${action} incident ${inc.id}: it is ${inc.state}${inc.state === 'acknowledged' && inc.acknowledgedBy !== null ? ` by ${inc.acknowledgedBy}` : ''} (allowed from ${allowed.join(', ')})`)
    }
  }

  acknowledge (id: string, by: string, note?: string): IncidentDetail {
    return this.#ctx.store.transaction(() => {
      const inc = this.require(id)
      this.#requireState(inc, ['open', 'regressed'], 'acknowledge')
      const now = this.#ctx.now()
      inc.state = 'acknowledged'
      inc.acknowledgedBy = by
      inc.acknowledgedMs = now
      inc.updatedMs = now
      this.#ctx.store.addTimeline(inc.id, now, 'acknowledged', { by, ...(note !== undefined ? { text: note } : {}) })
      this.#ctx.store.save(inc)
      this.#ctx.publish('updated', inc, 'incident.updated', 'acknowledged', note)
      return this.#detail(id)
    })
  }

  assign (id: string, by: string, assignee: string): IncidentDetail {
    return this.#ctx.store.transaction(() => {
      const inc = this.require(id)
      this.#requireState(inc, ACTIVE_STATES, 'assign')
      const now = this.#ctx.now()
      inc.assignee = assignee
      inc.updatedMs = now
      this.#ctx.store.addTimeline(inc.id, now, 'assigned', { by, text: assignee })
      this.#ctx.store.save(inc)
      this.#ctx.publish('updated', inc, 'incident.updated', 'assigned', `Assigned to ${assignee} by ${by}`)
      return this.#detail(id)
    })
  }

  addNote (id: string, by: string, text: string): IncidentDetail {
    return this.#ctx.store.transaction(() => {
      const inc = this.require(id)
      const now = this.#ctx.now()
      inc.updatedMs = now
      this.#ctx.store.addTimeline(inc.id, now, 'note', { by, text })
      this.#ctx.store.save(inc)
      this.#ctx.publish('updated', inc, 'incident.updated', 'note', `${by}: ${text}`)
      return this.#detail(id)
    })
  }

  /**
   * A technician's resolution; the machine is then watched for the
   * verification period. With `document`, the fix becomes a knowledge-base
   * article (or updates the one named). A fleet parent resolves its children.
   */
  resolve (id: string, by: string, body: ResolveBody): IncidentDetail {
    return this.#ctx.store.transaction(() => {
      const inc = this.require(id)
      this.#requireState(inc, ACTIVE_STATES, 'resolve')
      if (body.document?.articleId !== undefined) this.#ctx.kb.require(body.document.articleId)
      const now = this.#ctx.now()
      this.#resolveOne(inc, by, body, now)
      for (const child of this.#ctx.store.children(inc.id)) {
        if (ACTIVE_STATES.includes(child.state)) this.#resolveOne(child, by, { resolution: body.resolution }, now, inc.articleId ?? undefined)
      }
      return this.#detail(id)
    })
  }

  #resolveOne (inc: IncidentRow, by: string, body: ResolveBody, now: number, articleId?: string): void {
    inc.state = 'resolved'
    inc.resolvedMs = now
    inc.resolvedBy = by
    inc.resolution = body.resolution
    inc.verifyUntilMs = now + this.#ctx.policy.verifyMs
    inc.clearedMs = null
    inc.updatedMs = now
    this.#ctx.store.addTimeline(inc.id, now, 'resolved', { by, text: body.resolution })
    const doc = body.document
    if (doc !== undefined) {
      const article = doc.articleId !== undefined
        ? this.#ctx.kb.patch(doc.articleId, { ...stripUndefined(doc), keyPatterns: [familyPattern(inc.key)], findingKinds: [inc.kind] }, by, { keyPatterns: true, findingKinds: true, tags: true })
        : this.#ctx.kb.create({
          title: doc.title ?? inc.title,
          symptoms: doc.symptoms ?? `${inc.title} (${inc.kind}${inc.series !== null ? ` on ${inc.series}` : ''})`,
          cause: doc.cause ?? '',
          steps: doc.steps ?? [body.resolution],
          tags: doc.tags ?? defaultTags(inc),
          findingKinds: [inc.kind],
          keyPatterns: [familyPattern(inc.key)]
        }, by, inc.id)
      articleId = article.id
      this.#ctx.store.addTimeline(inc.id, now, 'documented', { by, text: `${doc.articleId !== undefined ? 'updated' : 'created'} knowledge-base article ${article.id}: ${article.title}` })
    }
    if (articleId !== undefined) {
      inc.articleId = articleId
      this.#ctx.kb.link(articleId, inc.id, inc.key)
    }
    this.#ctx.store.save(inc)
    this.#ctx.publish('resolved', inc, 'incident.resolved')
  }

  reopen (id: string, by: string, reason: string): IncidentDetail {
    return this.#ctx.store.transaction(() => {
      const inc = this.require(id)
      this.#requireState(inc, ['resolved', 'auto-resolved', 'verified'], 'reopen')
      const other = this.#ctx.store.active(inc.machineId, inc.key)
      if (other !== undefined) throw new VigieError('VIGIE_ERR_CONFLICT', `cannot reopen incident ${inc.id}: incident ${other.id} is already active for this machine and key`)
      const now = this.#ctx.now()
      if (inc.articleId !== null) this.#ctx.kb.setOutcome(inc.id, 'regressed')
      reactivate(inc, 'open', now)
      this.#ctx.store.addTimeline(inc.id, now, 'reopened', { by, text: reason })
      this.#ctx.store.save(inc)
      this.#ctx.publish('updated', inc, 'incident.updated', 'reopened', `Reopened by ${by}: ${reason}`)
      return this.#detail(id)
    })
  }
}

function defaultTags (inc: IncidentRow): string[] {
  const tags: string[] = [inc.kind]
  const m = inc.series === null ? undefined : inc.series.split('{')[0]
  if (m !== undefined) tags.push(m)
  if (inc.suspectedChange !== null && inc.suspectedChange !== undefined) tags.push(inc.suspectedChange.app)
  return tags
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'articleId')) as Partial<T>
}
