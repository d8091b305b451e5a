/**
 * Incidents that run themselves. Findings from the detection engine open,
 * repeat, escalate and clear incidents; timers auto-resolve them after a hold,
 * escalate the unacknowledged, and close the follow-up watch after a
 * technician's resolution (verified, or regressed when the problem returns).
 * Noise control: one active incident per (machine, key), flapping held open,
 * silences, fleet-wide grouping under a parent. Every change is written with its
 * webhook events in one SQLite transaction and announced on the live socket.
 * docs/incidents.md describes the lifecycle.
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
import { familyPattern, keyFamily } from './key-pattern.js'
import { ACTIVE_STATES, SEVERITY_RANK, type Incident, type IncidentChange, type IncidentDetail, type IncidentQuery, type IncidentState, type ResolveBody, type Severity } from './model.js'
import { findSilence, type SilenceInput, validateSilence } from './silences.js'
import { incidentJson, IncidentStore, type IncidentRow, type Silence } from './store.js'

/** Fleet-wide parents carry this machine id (the detection engine's FLEET_MACHINE_ID). */
export const FLEET = '*'

export interface IncidentPolicy {
  /** a cleared condition must stay clear this long before auto-resolving, ms */
  holdMs: number
  /** follow-up watch after a technician's resolution, ms */
  verifyMs: number
  /** unacknowledged this long → severity raised and notified again, ms (0 = never) */
  escalateMs: number
  /** at most this many escalations per incident */
  maxEscalations: number
  /** this many opens of one (machine, key) within `flapWindowMs` mark it flapping */
  flapCount: number
  flapWindowMs: number
  /** the same key opening on this many machines within `fleetWindowMs` is grouped under a parent */
  fleetMin: number
  fleetWindowMs: number
  /** series evidence: this long before detection, at most this many points */
  evidenceWindowMs: number
  evidenceMaxPoints: number
  /**
   * active incidents one machine may have of its own; a finding that would open
   * (or reopen) one more is folded into that machine's single "too many
   * incidents" incident (key OVERFLOW_KEY) instead
   */
  maxOpenPerMachine: number
}

export const DEFAULT_POLICY: IncidentPolicy = {
  holdMs: 300_000,
  verifyMs: 86_400_000,
  escalateMs: 1_800_000,
  maxEscalations: 2,
  flapCount: 4,
  flapWindowMs: 3_600_000,
  fleetMin: 5,
  fleetWindowMs: 600_000,
  evidenceWindowMs: 3_600_000,
  evidenceMaxPoints: 120,
  maxOpenPerMachine: 50
}

/** Key of a machine's "too many incidents" incident (one at most, active). */
export const OVERFLOW_KEY = 'vigie.incidents.overflow'
/** Keys of folded findings listed in the overflow incident's evidence, at most. */
const OVERFLOW_KEYS_SHOWN = 20

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

const iso = (ms: number): string => new Date(ms).toISOString()
const SYSTEM = 'vigie'

export class IncidentService {
  readonly store: IncidentStore
  readonly policy: IncidentPolicy
  readonly #kb: KnowledgeBase
  readonly #now: () => number
  readonly #notifier: WebhookNotifier | undefined
  readonly #events: CollectorEvents | undefined
  readonly #metrics: MetricStore | undefined
  readonly #hostnameOf: (id: string) => string | undefined
  readonly #groupOf: (id: string) => string | undefined
  readonly #log: NonNullable<IncidentServiceOptions['log']>
  readonly #onFolded: NonNullable<IncidentServiceOptions['onFolded']>
  #chain: Promise<void> = Promise.resolve()

  constructor (opts: IncidentServiceOptions) {
    this.store = new IncidentStore(opts.db)
    this.policy = { ...DEFAULT_POLICY, ...opts.policy }
    this.#kb = opts.kb
    this.#now = opts.now ?? Date.now
    this.#notifier = opts.notifier
    this.#events = opts.events
    this.#metrics = opts.metrics
    this.#hostnameOf = opts.hostnameOf ?? (() => undefined)
    this.#groupOf = opts.groupOf ?? (() => undefined)
    this.#log = opts.log ?? { warn: () => {} }
    this.#onFolded = opts.onFolded ?? (() => {})
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
          this.store.transaction(() => { this.#apply(f, evidence) })
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

  #apply (f: Finding, extraEvidence?: Record<string, unknown>): void {
    const now = this.#now()
    if (f.state === 'clear') { this.#clear(f, now); return }

    const active = this.store.active(f.machineId, f.key)
    if (active !== undefined) { this.#repeat(active, f, now); return }

    const silence = findSilence(this.store.silences(now), { machineId: f.machineId, group: this.#groupOf(f.machineId), key: f.key }, now)
    if (silence !== undefined) {
      // maintenance: nothing opens; a clear later finds nothing to clear
      this.store.countSilenceMatch(silence.id)
      return
    }

    if (f.machineId !== FLEET && f.key !== OVERFLOW_KEY && this.store.countActive(f.machineId, OVERFLOW_KEY) >= this.policy.maxOpenPerMachine) {
      this.#fold(f, now)
      return
    }

    const watched = this.store.latest(f.machineId, f.key, ['resolved'])
    if (watched !== undefined && watched.verifyUntilMs !== null && watched.verifyUntilMs > now) {
      this.store.recordOpen(f.machineId, f.key, now)
      this.#regress(watched, now, `The problem returned: ${f.title}`, f)
      return
    }

    this.store.recordOpen(f.machineId, f.key, now)
    const opens = this.store.opensSince(f.machineId, f.key, now - this.policy.flapWindowMs)
    if (opens >= this.policy.flapCount) {
      const prev = this.store.latest(f.machineId, f.key, ['auto-resolved'])
      if (prev !== undefined && prev.resolvedMs !== null && prev.resolvedMs >= now - this.policy.flapWindowMs) {
        this.#holdFlapping(prev, f, now, opens)
        return
      }
    }
    this.#open(f, now, extraEvidence)
  }

  #open (f: Finding, now: number, extraEvidence?: Record<string, unknown>): IncidentRow {
    const evidence: Record<string, unknown> = { ...f.evidence, ...extraEvidence, detectedAt: iso(f.atMs) }
    const row: IncidentRow = {
      id: newId('inc'),
      machineId: f.machineId,
      hostname: f.machineId === FLEET ? 'fleet' : this.#hostnameOf(f.machineId) ?? f.machineId,
      key: f.key,
      kind: f.kind,
      severity: f.severity,
      state: 'open',
      title: f.title,
      series: f.series ?? null,
      openedMs: now,
      updatedMs: now,
      lastSeenMs: now,
      count: 1,
      flapping: false,
      conditionOpen: true,
      clearedMs: null,
      acknowledgedBy: null,
      acknowledgedMs: null,
      assignee: null,
      escalations: 0,
      escalatedMs: null,
      resolvedMs: null,
      resolvedBy: null,
      resolution: null,
      articleId: null,
      verifyUntilMs: null,
      evidence,
      impactMs: f.impactAtMs ?? null,
      suspectedChange: f.suspectedChange ?? null,
      parentId: null,
      regressedFrom: null,
      suggestions: [],
      notified: false
    }
    const software = f.suspectedChange !== undefined ? [f.suspectedChange.app] : []
    row.suggestions = this.#kb.suggest({ kind: f.kind, key: f.key, title: f.title, series: f.series, software })
      .map((s) => ({ articleId: s.articleId, score: s.score }))
    this.store.insert(row)
    this.store.addTimeline(row.id, now, 'opened', { text: f.title })

    if (f.machineId === FLEET) this.#adoptChildren(row, f, now)
    else this.#findParent(row, f, now)
    this.#publish('opened', row, 'incident.opened')
    return row
  }

  /**
   * The machine has maxOpenPerMachine active incidents: this finding is folded
   * into its one "too many incidents" incident (opened, and notified, once; then
   * counted: `count`, `evidence.folded`, the latest keys, the worst severity).
   * A technician sees that the machine is in trouble and what kept coming,
   * without thousands of incidents or notifications; once they have worked
   * through the open ones and resolved this one, new findings open as usual.
   */
  #fold (f: Finding, now: number): void {
    this.#onFolded(f.machineId)
    const cap = this.policy.maxOpenPerMachine
    const active = this.store.active(f.machineId, OVERFLOW_KEY)
    if (active === undefined) {
      this.#open({
        machineId: f.machineId,
        key: OVERFLOW_KEY,
        kind: f.kind,
        state: 'open',
        severity: f.severity,
        atMs: f.atMs,
        title: `Too many incidents on this machine: ${cap} are active, further findings are counted here`,
        evidence: { limit: cap, folded: 1, keys: [f.key], latest: f.title }
      }, now)
      return
    }
    const keys = Array.isArray(active.evidence.keys) ? (active.evidence.keys as string[]).filter(k => k !== f.key) : []
    keys.push(f.key)
    active.evidence = { ...active.evidence, folded: Number(active.evidence.folded ?? 0) + 1, keys: keys.slice(-OVERFLOW_KEYS_SHOWN), latest: f.title }
    active.count++
    active.lastSeenMs = now
    active.updatedMs = now
    const notify = this.#raiseSeverity(active, f, now) ? 'severity' : undefined
    this.store.save(active)
    this.#publish('updated', active, notify === undefined ? undefined : 'incident.updated', notify)
  }

  /** Raises the incident to the finding's severity when that is worse, with a timeline entry; true if it did. */
  #raiseSeverity (inc: IncidentRow, f: Finding, now: number): boolean {
    if (SEVERITY_RANK[f.severity] <= SEVERITY_RANK[inc.severity]) return false
    this.store.addTimeline(inc.id, now, 'severity', { text: `${inc.severity} → ${f.severity}: ${f.title}` })
    inc.severity = f.severity
    return true
  }

  #repeat (inc: IncidentRow, f: Finding, now: number): void {
    const returned = !inc.conditionOpen
    inc.count++
    inc.lastSeenMs = now
    inc.updatedMs = now
    inc.conditionOpen = true
    inc.clearedMs = null
    let notify: string | undefined
    if (this.#raiseSeverity(inc, f, now)) {
      inc.title = f.title
      notify = 'severity'
    }
    if (f.impactAtMs !== undefined) inc.impactMs = f.impactAtMs
    if (f.suspectedChange !== undefined && inc.suspectedChange === null) {
      inc.suspectedChange = f.suspectedChange
      this.store.addTimeline(inc.id, now, 'suspected-change', { text: `${f.suspectedChange.app} → ${f.suspectedChange.to}` })
      if (inc.parentId === null) this.#findParent(inc, f, now)
    }
    if (returned) {
      this.store.recordOpen(inc.machineId, inc.key, now)
      this.store.addTimeline(inc.id, now, 'returned', { text: f.title })
      const opens = this.store.opensSince(inc.machineId, inc.key, now - this.policy.flapWindowMs)
      if (!inc.flapping && opens >= this.policy.flapCount) {
        inc.flapping = true
        this.store.addTimeline(inc.id, now, 'flapping', { text: `opened ${opens} times within ${Math.round(this.policy.flapWindowMs / 60_000)} min: held open` })
        notify = 'flapping'
      }
    }
    this.store.save(inc)
    this.#publish('updated', inc, notify === undefined ? undefined : 'incident.updated', notify)
  }

  #clear (f: Finding, now: number): void {
    const inc = this.store.active(f.machineId, f.key) ?? this.store.latest(f.machineId, f.key, ['resolved'])
    if (inc === undefined || !inc.conditionOpen) return
    inc.conditionOpen = false
    inc.updatedMs = now
    if (ACTIVE_STATES.includes(inc.state)) inc.clearedMs = now
    this.store.addTimeline(inc.id, now, 'cleared', { text: f.title })
    this.store.save(inc)
    this.#publish('updated', inc)
  }

  #regress (inc: IncidentRow, now: number, text: string, f?: Finding): void {
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
    this.store.addTimeline(inc.id, now, 'regressed', { text: `${text} (resolution of ${inc.regressedFrom.resolvedAt} by ${inc.regressedFrom.resolvedBy} did not hold)` })
    this.#kb.setOutcome(inc.id, 'regressed')
    this.store.save(inc)
    this.#publish('regressed', inc, 'incident.regressed')
  }

  #holdFlapping (inc: IncidentRow, f: Finding, now: number, opens: number): void {
    inc.state = 'open'
    inc.flapping = true
    inc.resolvedMs = null
    inc.resolvedBy = null
    inc.resolution = null
    inc.clearedMs = null
    inc.conditionOpen = true
    inc.count++
    inc.lastSeenMs = now
    inc.updatedMs = now
    if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[inc.severity]) inc.severity = f.severity
    this.store.addTimeline(inc.id, now, 'flapping', { text: `opened ${opens} times within ${Math.round(this.policy.flapWindowMs / 60_000)} min: reopened and held open until it stays clear` })
    this.store.save(inc)
    this.#publish('updated', inc, 'incident.updated', 'flapping')
  }

  /* ---- fleet-wide grouping ---- */

  /** A fleet finding (change correlation): the affected machines' incidents of that key become its children. */
  #adoptChildren (parent: IncidentRow, f: Finding, now: number): void {
    const machines = Array.isArray(f.evidence.machines) ? f.evidence.machines as string[] : []
    const childKey = typeof f.evidence.findingKey === 'string' ? f.evidence.findingKey : undefined
    if (childKey === undefined) return
    for (const m of machines) {
      const child = this.store.active(m, childKey)
      if (child === undefined || child.parentId !== null) continue
      this.#attach(child, parent, now)
    }
  }

  /** Links a machine's incident to a fleet parent: its suspected change's, or one grouping many machines with the same key. */
  #findParent (row: IncidentRow, f: Finding, now: number): void {
    if (f.suspectedChange !== undefined) {
      const prefix = `change:${f.suspectedChange.app}:${f.suspectedChange.to}:`
      const parent = this.store.list({ state: 'active', machineId: FLEET, limit: 500 }).items.find((p) => p.key.startsWith(prefix))
      if (parent !== undefined) { this.#attach(row, parent, now); return }
    }
    const parentKey = `fleet:${f.key}`
    const existing = this.store.active(FLEET, parentKey)
    if (existing !== undefined) { this.#attach(row, existing, now); return }
    const peers = this.store.activeWithKeySince(f.key, now - this.policy.fleetWindowMs).filter((p) => p.parentId === null)
    if (peers.length < this.policy.fleetMin) return
    const worst = peers.reduce<Severity>((w, p) => SEVERITY_RANK[p.severity] > SEVERITY_RANK[w] ? p.severity : w, 'info')
    const parent = this.#open({
      machineId: FLEET,
      key: parentKey,
      kind: f.kind,
      state: 'open',
      severity: worst,
      atMs: f.atMs,
      title: `${f.title.replace(/\s*\(.*\)$/, '')} — on ${peers.length} machines within ${Math.round(this.policy.fleetWindowMs / 60_000)} min`,
      evidence: { findingKey: f.key, machines: peers.map((p) => p.machineId) },
      ...(f.series !== undefined ? { series: f.series } : {})
    }, now)
    // opening the parent adopted the stored peers, this row included; keep the in-memory copy in step
    row.parentId = parent.id
  }

  #attach (child: IncidentRow, parent: IncidentRow, now: number): void {
    child.parentId = parent.id
    child.updatedMs = now
    this.store.addTimeline(child.id, now, 'grouped', { text: `part of fleet incident ${parent.id}: ${parent.title}` })
    this.store.save(child)
    if (child.machineId !== parent.machineId) {
      this.store.addTimeline(parent.id, now, 'grouped', { text: `${child.hostname}: ${child.title}` })
    }
  }

  /* ---- timers ---- */

  /**
   * Runs the clocks: auto-resolve after the hold, escalation, end of the
   * verification watch, fleet parents whose children are all done. Call it
   * every few seconds; it is idempotent.
   */
  tick (): void {
    const now = this.#now()
    const p = this.policy
    for (const inc of this.store.timed(now, p.maxEscalations)) {
      try {
        this.store.transaction(() => {
          const fresh = this.store.get(inc.id)
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
              this.#regress(fresh, now, 'The condition was still present at the end of the verification period')
            } else {
              fresh.state = 'verified'
              fresh.updatedMs = now
              this.store.addTimeline(fresh.id, now, 'verified', { text: `no recurrence for ${Math.round(p.verifyMs / 3_600_000 * 10) / 10} h after the resolution` })
              this.#kb.setOutcome(fresh.id, 'verified')
              this.store.save(fresh)
              this.#publish('verified', fresh, 'incident.verified')
            }
          }
        })
      } catch (err) {
        this.#log.warn({ err, incident: inc.id }, 'incident timer failed')
      }
    }
    this.store.pruneOpens(now - p.flapWindowMs)
    this.store.pruneSilences(now - 30 * 86_400_000)
  }

  #childrenDone (parent: IncidentRow): boolean {
    const kids = this.store.children(parent.id)
    return kids.length > 0 && kids.every((k) => !ACTIVE_STATES.includes(k.state))
  }

  #autoResolve (inc: IncidentRow, now: number, why: string): void {
    inc.state = 'auto-resolved'
    inc.resolvedMs = now
    inc.resolvedBy = SYSTEM
    inc.resolution = `Recovered: ${why}`
    inc.updatedMs = now
    this.store.addTimeline(inc.id, now, 'auto-resolved', { text: inc.resolution })
    this.store.save(inc)
    this.#publish('resolved', inc, 'incident.resolved')
  }

  #escalate (inc: IncidentRow, now: number): void {
    const silence = findSilence(this.store.silences(now), { machineId: inc.machineId, group: this.#groupOf(inc.machineId), key: inc.key }, now)
    if (silence !== undefined) return
    const from = inc.severity
    inc.severity = from === 'info' ? 'warning' : 'critical'
    inc.escalations++
    inc.escalatedMs = now
    inc.updatedMs = now
    this.store.addTimeline(inc.id, now, 'escalated', { text: `unacknowledged for ${Math.round((now - inc.openedMs) / 60_000)} min: ${from} → ${inc.severity}` })
    this.store.save(inc)
    this.#publish('updated', inc, 'incident.updated', 'escalated')
  }

  /* ---- technicians ---- */

  #require (id: string): IncidentRow {
    const inc = this.store.get(id)
    if (inc === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no incident ${id}`)
    return inc
  }

  #requireState (inc: IncidentRow, allowed: readonly IncidentState[], action: string): void {
    if (!allowed.includes(inc.state)) {
      throw new VigieError('VIGIE_ERR_CONFLICT', `cannot ${action} incident ${inc.id}: it is ${inc.state}${inc.state === 'acknowledged' && inc.acknowledgedBy !== null ? ` by ${inc.acknowledgedBy}` : ''} (allowed from ${allowed.join(', ')})`)
    }
  }

  acknowledge (id: string, by: string, note?: string): IncidentDetail {
    return this.store.transaction(() => {
      const inc = this.#require(id)
      this.#requireState(inc, ['open', 'regressed'], 'acknowledge')
      const now = this.#now()
      inc.state = 'acknowledged'
      inc.acknowledgedBy = by
      inc.acknowledgedMs = now
      inc.updatedMs = now
      this.store.addTimeline(inc.id, now, 'acknowledged', { by, ...(note !== undefined ? { text: note } : {}) })
      this.store.save(inc)
      this.#publish('updated', inc, 'incident.updated', 'acknowledged', note)
      return this.detail(id)
    })
  }

  assign (id: string, by: string, assignee: string): IncidentDetail {
    return this.store.transaction(() => {
      const inc = this.#require(id)
      this.#requireState(inc, ACTIVE_STATES, 'assign')
      const now = this.#now()
      inc.assignee = assignee
      inc.updatedMs = now
      this.store.addTimeline(inc.id, now, 'assigned', { by, text: assignee })
      this.store.save(inc)
      this.#publish('updated', inc, 'incident.updated', 'assigned', `Assigned to ${assignee} by ${by}`)
      return this.detail(id)
    })
  }

  addNote (id: string, by: string, text: string): IncidentDetail {
    return this.store.transaction(() => {
      const inc = this.#require(id)
      const now = this.#now()
      inc.updatedMs = now
      this.store.addTimeline(inc.id, now, 'note', { by, text })
      this.store.save(inc)
      this.#publish('updated', inc, 'incident.updated', 'note', `${by}: ${text}`)
      return this.detail(id)
    })
  }

  /**
   * A technician's resolution; the machine is then watched for the
   * verification period. With `document`, the fix becomes a knowledge-base
   * article (or updates the one named). A fleet parent resolves its children.
   */
  resolve (id: string, by: string, body: ResolveBody): IncidentDetail {
    return this.store.transaction(() => {
      const inc = this.#require(id)
      this.#requireState(inc, ACTIVE_STATES, 'resolve')
      if (body.document?.articleId !== undefined) this.#kb.require(body.document.articleId)
      const now = this.#now()
      this.#resolveOne(inc, by, body, now)
      for (const child of this.store.children(inc.id)) {
        if (ACTIVE_STATES.includes(child.state)) this.#resolveOne(child, by, { resolution: body.resolution }, now, inc.articleId ?? undefined)
      }
      return this.detail(id)
    })
  }

  #resolveOne (inc: IncidentRow, by: string, body: ResolveBody, now: number, articleId?: string): void {
    inc.state = 'resolved'
    inc.resolvedMs = now
    inc.resolvedBy = by
    inc.resolution = body.resolution
    inc.verifyUntilMs = now + this.policy.verifyMs
    inc.clearedMs = null
    inc.updatedMs = now
    this.store.addTimeline(inc.id, now, 'resolved', { by, text: body.resolution })
    const doc = body.document
    if (doc !== undefined) {
      const article = doc.articleId !== undefined
        ? this.#kb.patch(doc.articleId, { ...stripUndefined(doc), keyPatterns: [familyPattern(inc.key)], findingKinds: [inc.kind] }, by, { keyPatterns: true, findingKinds: true, tags: true })
        : this.#kb.create({
          title: doc.title ?? inc.title,
          symptoms: doc.symptoms ?? `${inc.title} (${inc.kind}${inc.series !== null ? ` on ${inc.series}` : ''})`,
          cause: doc.cause ?? '',
          steps: doc.steps ?? [body.resolution],
          tags: doc.tags ?? defaultTags(inc),
          findingKinds: [inc.kind],
          keyPatterns: [familyPattern(inc.key)]
        }, by, inc.id)
      articleId = article.id
      this.store.addTimeline(inc.id, now, 'documented', { by, text: `${doc.articleId !== undefined ? 'updated' : 'created'} knowledge-base article ${article.id}: ${article.title}` })
    }
    if (articleId !== undefined) {
      inc.articleId = articleId
      this.#kb.link(articleId, inc.id, inc.key)
    }
    this.store.save(inc)
    this.#publish('resolved', inc, 'incident.resolved')
  }

  reopen (id: string, by: string, reason: string): IncidentDetail {
    return this.store.transaction(() => {
      const inc = this.#require(id)
      this.#requireState(inc, ['resolved', 'auto-resolved', 'verified'], 'reopen')
      const other = this.store.active(inc.machineId, inc.key)
      if (other !== undefined) throw new VigieError('VIGIE_ERR_CONFLICT', `cannot reopen incident ${inc.id}: incident ${other.id} is already active for this machine and key`)
      const now = this.#now()
      if (inc.articleId !== null) this.#kb.setOutcome(inc.id, 'regressed')
      reactivate(inc, 'open', now)
      this.store.addTimeline(inc.id, now, 'reopened', { by, text: reason })
      this.store.save(inc)
      this.#publish('updated', inc, 'incident.updated', 'reopened', `Reopened by ${by}: ${reason}`)
      return this.detail(id)
    })
  }

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
    const inc = this.#require(id)
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

/** An incident back in play (regressed or reopened): its resolution, acknowledgement and escalation start over. */
function reactivate (inc: IncidentRow, state: 'open' | 'regressed', now: number): void {
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
