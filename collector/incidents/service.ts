/**
 * Incidents that run themselves. Findings from the detection engine open,
 * repeat, escalate and clear incidents; timers auto-resolve them after a hold,
 * escalate the unacknowledged, and close the follow-up watch after a
 * technician's resolution (verified, or regressed when the problem returns).
 * Noise control: one active incident per (machine, key), flapping held open,
 * silences, fleet-wide grouping under a parent. Every change is written with its
 * webhook events in one SQLite transaction and announced on the live socket.
 * docs/incidents.md describes the lifecycle. This class is the area's face:
 * findings in (findings.ts), clocks (timers.ts), technicians' commands
 * (commands.ts), reads, silences and announcements here.
 */
import type { Finding } from '../detect/engine.js'
import { parseSeriesKey } from '../../protocol/series.js'
import type { CollectorEvents } from '../ingest/events.js'
import type { MetricStore } from '../store/metric-store.js'
import { VigieError } from '../core/errors.js'
import { newId } from '../core/secrets.js'
import type { KnowledgeBase } from '../kb/knowledge-base.js'
import type { WebhookNotifier } from '../notify/webhooks.js'
import type { WebhookEventType } from '../notify/payload.js'
import { IncidentCommands } from './commands.js'
import type { IncidentContext } from './context.js'
import { FindingsApplier } from './findings.js'
import { keyFamily } from './key-pattern.js'
import type { Incident, IncidentChange, IncidentDetail, IncidentQuery, ResolveBody, Severity } from './model.js'
import { DEFAULT_POLICY, type IncidentPolicy } from './policy.js'
import { type SilenceInput, validateSilence } from './silences.js'
import { incidentJson, type IncidentRow, type Silence } from './rows.js'
import type { IncidentRepository } from './repository.js'
import { IncidentTimers } from './timers.js'

export { DEFAULT_POLICY, FLEET, OVERFLOW_KEY, type IncidentPolicy } from './policy.js'

export interface IncidentServiceOptions {
  /** where incidents are kept (SqliteIncidentStore on the embedded store) */
  store: IncidentRepository
  kb: KnowledgeBase
  now?: () => number
  policy?: Partial<IncidentPolicy>
  notifier?: WebhookNotifier
  events?: CollectorEvents
  metrics?: MetricStore
  hostnameOf?: (machineId: string) => string | undefined
  /** a machine's group, for group silences (machines carry no group yet: undefined) */
  groupOf?: (machineId: string) => string | undefined
  log?: { warn: (obj: object, msg: string) => void }
  /** called once per finding folded into a "too many incidents" incident (counted on /metrics) */
  onFolded?: (machineId: string) => void
}

export class IncidentService {
  readonly store: IncidentRepository
  readonly policy: IncidentPolicy
  readonly #kb: KnowledgeBase
  readonly #now: () => number
  readonly #notifier: WebhookNotifier | undefined
  readonly #events: CollectorEvents | undefined
  readonly #metrics: MetricStore | undefined
  readonly #log: NonNullable<IncidentServiceOptions['log']>
  readonly #findings: FindingsApplier
  readonly #timers: IncidentTimers
  readonly #commands: IncidentCommands
  #chain: Promise<void> = Promise.resolve()
  #ticking: Promise<void> | undefined

  constructor (opts: IncidentServiceOptions) {
    this.store = opts.store
    this.policy = { ...DEFAULT_POLICY, ...opts.policy }
    this.#kb = opts.kb
    this.#now = opts.now ?? Date.now
    this.#notifier = opts.notifier
    this.#events = opts.events
    this.#metrics = opts.metrics
    this.#log = opts.log ?? { warn: () => {} }
    const ctx: IncidentContext = {
      store: this.store,
      policy: this.policy,
      kb: opts.kb,
      now: this.#now,
      hostnameOf: opts.hostnameOf ?? (() => undefined),
      groupOf: opts.groupOf ?? (() => undefined),
      onFolded: opts.onFolded ?? (() => {}),
      log: this.#log,
      publish: async (change, inc, webhook, detail, text) => { await this.#publish(change, inc, webhook, detail, text) }
    }
    this.#findings = new FindingsApplier(ctx)
    this.#timers = new IncidentTimers(ctx)
    this.#commands = new IncidentCommands(ctx, (id) => this.detail(id))
  }

  /* ---- findings ---- */

  /**
   * Applies findings in order, one at a time (calls are queued), so dedup holds
   * whatever the arrival pattern. Never rejects: a failing finding is logged.
   */
  submit (findings: readonly Finding[]): Promise<void> {
    if (findings.length === 0) return this.#chain
    const run = this.#chain.then(async () => {
      for (const f of findings) {
        try {
          // Evidence is a metric query: fetched before the transaction, which awaits nothing but its stores.
          const evidence = await this.#needsEvidence(f) ? await this.#evidence(f) : undefined
          await this.store.transaction(async () => { await this.#findings.apply(f, evidence) })
        } catch (err) {
          this.#log.warn({ err, machineId: f.machineId, key: f.key }, 'finding not applied')
        }
      }
    })
    this.#chain = run
    return run
  }

  /** Resolves when every finding submitted so far has been applied (`app.findingsSettled()` also waits for detection). */
  async idle (): Promise<void> {
    await this.#chain
  }

  async #needsEvidence (f: Finding): Promise<boolean> {
    return f.state === 'open' && f.series !== undefined && this.#metrics !== undefined && await this.store.active(f.machineId, f.key) === undefined
  }

  /** The finding's own evidence plus a short, bounded window of its series around detection. */
  async #evidence (f: Finding): Promise<Record<string, unknown>> {
    const parsed = f.series === undefined ? undefined : parseSeriesKey(f.series)
    if (parsed === undefined || this.#metrics === undefined) return {}
    const { evidenceWindowMs: span, evidenceMaxPoints: maxPoints } = this.policy
    const stepMs = Math.max(1000, Math.ceil(span / maxPoints))
    try {
      const q = this.#metrics.query({ machineId: f.machineId, name: parsed.name, labels: parsed.labels, fromMs: f.atMs - span, toMs: f.atMs + stepMs, stepMs, aggregate: 'avg' })
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error('series query timed out')) }, 2000) })
      const res = await Promise.race([q, timeout]).finally(() => { clearTimeout(timer) })
      const points = (res[0]?.points ?? []).slice(-maxPoints)
      return { window: { series: f.series, stepMs, unit: res[0]?.unit, points } }
    } catch (err) {
      return { window: { series: f.series, error: (err as Error).message } }
    }
  }

  /* ---- timers (incidents/timers.ts) ---- */

  /**
   * Runs the clocks: auto-resolve after the hold, escalation, end of the
   * verification watch, fleet parents whose children are all done. Call it
   * every few seconds; it is idempotent. A call while one runs joins it.
   */
  tick (): Promise<void> {
    this.#ticking ??= this.#timers.tick().finally(() => { this.#ticking = undefined })
    return this.#ticking
  }

  /* ---- technicians (incidents/commands.ts) ---- */

  async acknowledge (id: string, by: string, note?: string): Promise<IncidentDetail> { return await this.#commands.acknowledge(id, by, note) }
  async assign (id: string, by: string, assignee: string): Promise<IncidentDetail> { return await this.#commands.assign(id, by, assignee) }
  async addNote (id: string, by: string, text: string): Promise<IncidentDetail> { return await this.#commands.addNote(id, by, text) }
  /** A technician's resolution, then the follow-up watch; `document` writes the fix to the knowledge base. */
  async resolve (id: string, by: string, body: ResolveBody): Promise<IncidentDetail> { return await this.#commands.resolve(id, by, body) }
  async reopen (id: string, by: string, reason: string): Promise<IncidentDetail> { return await this.#commands.reopen(id, by, reason) }

  /* ---- reads ---- */

  async json (inc: IncidentRow): Promise<Incident> {
    const family = keyFamily(inc.key)
    const suggestions: Incident['suggestions'] = []
    for (const s of inc.suggestions) {
      const title = await this.#kb.titleOf(s.articleId)
      if (title !== undefined) suggestions.push({ articleId: s.articleId, title, score: s.score, resolvedCount: await this.#kb.resolvedCount(s.articleId, family) })
    }
    return incidentJson(inc, suggestions)
  }

  async detail (id: string): Promise<IncidentDetail> {
    const inc = await this.#commands.require(id)
    return { ...await this.json(inc), timeline: await this.store.timeline(id), children: (await this.store.children(id)).map((c) => c.id) }
  }

  async list (q: IncidentQuery): Promise<{ total: number, items: Incident[] }> {
    const { total, items } = await this.store.list(q)
    return { total, items: await Promise.all(items.map(async (i) => await this.json(i))) }
  }

  /** For the machine status board: the worst active incident of a machine. */
  async worstSeverity (machineId: string): Promise<{ severity: Severity, title: string, incidentId: string } | undefined> {
    const w = await this.store.worstActive(machineId)
    return w === undefined ? undefined : { severity: w.severity, title: w.title, incidentId: w.id }
  }

  /** Worst active incident per machine, for every machine at once. */
  async worstAll (): Promise<Map<string, { severity: Severity, title: string, incidentId: string }>> {
    const out = new Map<string, { severity: Severity, title: string, incidentId: string }>()
    for (const [machineId, w] of await this.store.worstActiveAll()) out.set(machineId, { severity: w.severity, title: w.title, incidentId: w.id })
    return out
  }

  /* ---- silences ---- */

  async createSilence (input: SilenceInput, by: string): Promise<Silence> {
    const now = this.#now()
    const s = validateSilence(input, now)
    const silence: Silence = { id: newId('sil'), ...s, reason: input.reason, createdBy: by, createdMs: now, matched: 0 }
    await this.store.insertSilence(silence)
    return silence
  }

  async listSilences (includeExpired: boolean): Promise<Silence[]> {
    return await this.store.silences(includeExpired ? undefined : this.#now())
  }

  async deleteSilence (id: string): Promise<void> {
    if (!await this.store.deleteSilence(id)) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no silence ${id}`)
  }

  /* ---- announcements ---- */

  /**
   * Live event always; webhook event when given and allowed: an incident's first
   * notification is its 'opened' (not for children of an already-notified fleet
   * parent); later events follow only notified ones. Silenced findings open no
   * incident at all, so they notify nothing.
   */
  async #publish (change: IncidentChange, inc: IncidentRow, webhook?: WebhookEventType, detail?: string, text?: string): Promise<void> {
    const json = await this.json(inc)
    if (webhook !== undefined && this.#notifier !== undefined) {
      let send = inc.notified
      if (webhook === 'incident.opened') {
        const parent = inc.parentId === null ? undefined : await this.store.get(inc.parentId)
        send = parent?.notified !== true
        if (send) { inc.notified = true; await this.store.save(inc) }
      }
      if (send) await this.#notifier.enqueue(webhook, json, detail, text)
    }
    this.#events?.emit('live', { type: 'incident', change, incident: json })
  }
}
