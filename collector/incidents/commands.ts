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
  readonly #detail: (id: string) => Promise<IncidentDetail>

  constructor (ctx: IncidentContext, detail: (id: string) => Promise<IncidentDetail>) {
    this.#ctx = ctx
    this.#detail = detail
  }

  /** The incident, or VIGIE_ERR_NOT_FOUND. */
  async require (id: string): Promise<IncidentRow> {
    const inc = await this.#ctx.store.get(id)
    if (inc === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no incident ${id}`)
    return inc
  }

  #requireState (inc: IncidentRow, allowed: readonly IncidentState[], action: string): void {
    if (!allowed.includes(inc.state)) {
      throw new VigieError('VIGIE_ERR_CONFLICT', `cannot ${action} incident ${inc.id}: it is ${inc.state}${inc.state === 'acknowledged' && inc.acknowledgedBy !== null ? ` by ${inc.acknowledgedBy}` : ''} (allowed from ${allowed.join(', ')})`)
    }
  }

  async acknowledge (id: string, by: string, note?: string): Promise<IncidentDetail> {
    return await this.#ctx.store.transaction(async () => {
      const inc = await this.require(id)
      this.#requireState(inc, ['open', 'regressed'], 'acknowledge')
      const now = this.#ctx.now()
      inc.state = 'acknowledged'
      inc.acknowledgedBy = by
      inc.acknowledgedMs = now
      inc.updatedMs = now
      await this.#ctx.store.addTimeline(inc.id, now, 'acknowledged', { by, ...(note !== undefined ? { text: note } : {}) })
      await this.#ctx.store.save(inc)
      await this.#ctx.publish('updated', inc, 'incident.updated', 'acknowledged', note)
      return await this.#detail(id)
    })
  }

  async assign (id: string, by: string, assignee: string): Promise<IncidentDetail> {
    return await this.#ctx.store.transaction(async () => {
      const inc = await this.require(id)
      this.#requireState(inc, ACTIVE_STATES, 'assign')
      const now = this.#ctx.now()
      inc.assignee = assignee
      inc.updatedMs = now
      await this.#ctx.store.addTimeline(inc.id, now, 'assigned', { by, text: assignee })
      await this.#ctx.store.save(inc)
      await this.#ctx.publish('updated', inc, 'incident.updated', 'assigned', `Assigned to ${assignee} by ${by}`)
      return await this.#detail(id)
    })
  }

  async addNote (id: string, by: string, text: string): Promise<IncidentDetail> {
    return await this.#ctx.store.transaction(async () => {
      const inc = await this.require(id)
      const now = this.#ctx.now()
      inc.updatedMs = now
      await this.#ctx.store.addTimeline(inc.id, now, 'note', { by, text })
      await this.#ctx.store.save(inc)
      await this.#ctx.publish('updated', inc, 'incident.updated', 'note', `${by}: ${text}`)
      return await this.#detail(id)
    })
  }

  /**
   * A technician's resolution; the machine is then watched for the
   * verification period. With `document`, the fix becomes a knowledge-base
   * article (or updates the one named). A fleet parent resolves its children.
   */
  async resolve (id: string, by: string, body: ResolveBody): Promise<IncidentDetail> {
    return await this.#ctx.store.transaction(async () => {
      const inc = await this.require(id)
      this.#requireState(inc, ACTIVE_STATES, 'resolve')
      if (body.document?.articleId !== undefined) await this.#ctx.kb.require(body.document.articleId)
      const now = this.#ctx.now()
      await this.#resolveOne(inc, by, body, now)
      for (const child of await this.#ctx.store.children(inc.id)) {
        if (ACTIVE_STATES.includes(child.state)) await this.#resolveOne(child, by, { resolution: body.resolution }, now, inc.articleId ?? undefined)
      }
      return await this.#detail(id)
    })
  }

  async #resolveOne (inc: IncidentRow, by: string, body: ResolveBody, now: number, articleId?: string): Promise<void> {
    inc.state = 'resolved'
    inc.resolvedMs = now
    inc.resolvedBy = by
    inc.resolution = body.resolution
    inc.verifyUntilMs = now + this.#ctx.policy.verifyMs
    inc.clearedMs = null
    inc.updatedMs = now
    await this.#ctx.store.addTimeline(inc.id, now, 'resolved', { by, text: body.resolution })
    const doc = body.document
    if (doc !== undefined) {
      const article = doc.articleId !== undefined
        ? await this.#ctx.kb.patch(doc.articleId, { ...stripUndefined(doc), keyPatterns: [familyPattern(inc.key)], findingKinds: [inc.kind] }, by, { keyPatterns: true, findingKinds: true, tags: true })
        : await this.#ctx.kb.create({
          title: doc.title ?? inc.title,
          symptoms: doc.symptoms ?? `${inc.title} (${inc.kind}${inc.series !== null ? ` on ${inc.series}` : ''})`,
          cause: doc.cause ?? '',
          steps: doc.steps ?? [body.resolution],
          tags: doc.tags ?? defaultTags(inc),
          findingKinds: [inc.kind],
          keyPatterns: [familyPattern(inc.key)]
        }, by, inc.id)
      articleId = article.id
      await this.#ctx.store.addTimeline(inc.id, now, 'documented', { by, text: `${doc.articleId !== undefined ? 'updated' : 'created'} knowledge-base article ${article.id}: ${article.title}` })
    }
    if (articleId !== undefined) {
      inc.articleId = articleId
      await this.#ctx.kb.link(articleId, inc.id, inc.key)
    }
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('resolved', inc, 'incident.resolved')
  }

  async reopen (id: string, by: string, reason: string): Promise<IncidentDetail> {
    return await this.#ctx.store.transaction(async () => {
      const inc = await this.require(id)
      this.#requireState(inc, ['resolved', 'auto-resolved', 'verified'], 'reopen')
      const other = await this.#ctx.store.active(inc.machineId, inc.key)
      if (other !== undefined) throw new VigieError('VIGIE_ERR_CONFLICT', `cannot reopen incident ${inc.id}: incident ${other.id} is already active for this machine and key`)
      const now = this.#ctx.now()
      if (inc.articleId !== null) await this.#ctx.kb.setOutcome(inc.id, 'regressed')
      reactivate(inc, 'open', now)
      await this.#ctx.store.addTimeline(inc.id, now, 'reopened', { by, text: reason })
      await this.#ctx.store.save(inc)
      await this.#ctx.publish('updated', inc, 'incident.updated', 'reopened', `Reopened by ${by}: ${reason}`)
      return await this.#detail(id)
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
