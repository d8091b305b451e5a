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
import type { Db } from '../store/sqlite/db.js'
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
import { IncidentStore } from './store.js'
import { IncidentTimers } from './timers.js'

export { DEFAULT_POLICY, FLEET, OVERFLOW_KEY, type IncidentPolicy } from './policy.js'

export interface IncidentServiceOptions {
  db: Db
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
  readonly store: IncidentStore
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

  constructor (opts: IncidentServiceOptions) {
    this.store = new IncidentStore(opts.db)
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
      publish: (change, inc, webhook, detail, text) => { this.#publish(change, inc, webhook, detail, text) }
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
          const evidence = this.#needsEvidence(f) ? await this.#evidence(f) : undefined
          this.store.transaction(() => { this.#findings.apply(f, evidence) })
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

  #needsEvidence (f: Finding): boolean {
    return f.state === 'open' && f.series !== undefined && this.#metrics !== undefined && this.store.active(f.machineId, f.key) === undefined
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
   * every few seconds; it is idempotent.
   */
  tick (): void { this.#timers.tick() }

  /* ---- technicians (incidents/commands.ts) ---- */

  acknowledge (id: string, by: string, note?: string): IncidentDetail { return this.#commands.acknowledge(id, by, note) }
  assign (id: string, by: string, assignee: string): IncidentDetail { return this.#commands.assign(id, by, assignee) }
  addNote (id: string, by: string, text: string): IncidentDetail { return this.#commands.addNote(id, by, text) }
  /** A technician's resolution, then the follow-up watch; `document` writes the fix to the knowledge base. */
  resolve (id: string, by: string, body: ResolveBody): IncidentDetail { return this.#commands.resolve(id, by, body) }
  reopen (id: string, by: string, reason: string): IncidentDetail { return this.#commands.reopen(id, by, reason) }

  /* ---- reads ---- */

  json (inc: IncidentRow): Incident {
    const family = keyFamily(inc.key)
    const suggestions: Incident['suggestions'] = []
    for (const s of inc.suggestions) {
      const a = this.#kb.get(s.articleId)
      if (a !== undefined) suggestions.push({ articleId: s.articleId, title: a.title, score: s.score, resolvedCount: this.#kb.resolvedCount(s.articleId, family) })
    }
    return incidentJson(inc, suggestions)
  }

  detail (id: string): IncidentDetail {
    const inc = this.#commands.require(id)
    return { ...this.json(inc), timeline: this.store.timeline(id), children: this.store.children(id).map((c) => c.id) }
  }

  list (q: IncidentQuery): { total: number, items: Incident[] } {
    const { total, items } = this.store.list(q)
    return { total, items: items.map((i) => this.json(i)) }
  }

  /** For the machine status board: the worst active incident of a machine. */
  worstSeverity (machineId: string): { severity: Severity, title: string, incidentId: string } | undefined {
    const w = this.store.worstActive(machineId)
    return w === undefined ? undefined : { severity: w.severity, title: w.title, incidentId: w.id }
  }

  /** Worst active incident per machine, for every machine at once. */
  worstAll (): Map<string, { severity: Severity, title: string, incidentId: string }> {
    const out = new Map<string, { severity: Severity, title: string, incidentId: string }>()
    for (const [machineId, w] of this.store.worstActiveAll()) out.set(machineId, { severity: w.severity, title: w.title, incidentId: w.id })
    return out
  }

  /* ---- silences ---- */

  createSilence (input: SilenceInput, by: string): Silence {
    const now = this.#now()
    const s = validateSilence(input, now)
    const silence: Silence = { id: newId('sil'), ...s, reason: input.reason, createdBy: by, createdMs: now, matched: 0 }
    this.store.insertSilence(silence)
    return silence
  }

  listSilences (includeExpired: boolean): Silence[] {
    return this.store.silences(includeExpired ? undefined : this.#now())
  }

  deleteSilence (id: string): void {
    if (!this.store.deleteSilence(id)) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no silence ${id}`)
  }

  /* ---- announcements ---- */

  /**
   * Live event always; webhook event when given and allowed: an incident's first
   * notification is its 'opened' (not for children of an already-notified fleet
   * parent); later events follow only notified ones. Silenced findings open no
   * incident at all, so they notify nothing.
   */
  #publish (change: IncidentChange, inc: IncidentRow, webhook?: WebhookEventType, detail?: string, text?: string): void {
    const json = this.json(inc)
    if (webhook !== undefined && this.#notifier !== undefined) {
      let send = inc.notified
      if (webhook === 'incident.opened') {
        const parent = inc.parentId === null ? undefined : this.store.get(inc.parentId)
        send = parent?.notified !== true
        if (send) { inc.notified = true; this.store.save(inc) }
      }
      if (send) this.#notifier.enqueue(webhook, json, detail, text)
    }
    this.#events?.emit('live', { type: 'incident', change, incident: json })
  }
}
