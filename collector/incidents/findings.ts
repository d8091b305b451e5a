/**
 * Findings → incidents: a finding opens an incident, repeats or escalates the active
 * one for its (machine, key), clears it, regresses a resolution under follow-up,
 * is held open when flapping, is folded when the machine has too many, opens
 * nothing under a silence, and is grouped under a fleet-wide parent when many
 * machines share it or a suspected change explains it. Runs inside the caller's
 * transaction (IncidentService.submit).
 */
import type { Finding } from '../detect/engine.js'
import { newId } from '../core/secrets.js'
import { regress, type IncidentContext } from './context.js'
import { ACTIVE_STATES, SEVERITY_RANK, type Severity } from './model.js'
import { FLEET, iso, OVERFLOW_KEY, OVERFLOW_KEYS_SHOWN } from './policy.js'
import { findSilence } from './silences.js'
import type { IncidentRow } from './rows.js'

export class FindingsApplier {
  readonly #ctx: IncidentContext

  constructor (ctx: IncidentContext) { this.#ctx = ctx }

  /** Applies one finding, inside the caller's transaction. */
  async apply (f: Finding, extraEvidence?: Record<string, unknown>): Promise<void> {
    const now = this.#ctx.now()
    if (f.state === 'clear') { await this.#clear(f, now); return }

    const active = await this.#ctx.store.active(f.machineId, f.key)
    if (active !== undefined) { await this.#repeat(active, f, now); return }

    const silence = findSilence(await this.#ctx.store.silences(now), { machineId: f.machineId, group: this.#ctx.groupOf(f.machineId), key: f.key }, now)
    if (silence !== undefined) {
      // maintenance: nothing opens; a clear later finds nothing to clear
      await this.#ctx.store.countSilenceMatch(silence.id)
      return
    }

    if (f.machineId !== FLEET && f.key !== OVERFLOW_KEY && await this.#ctx.store.countActive(f.machineId, OVERFLOW_KEY) >= this.#ctx.policy.maxOpenPerMachine) {
      await this.#fold(f, now)
      return
    }

    const watched = await this.#ctx.store.latest(f.machineId, f.key, ['resolved'])
    if (watched !== undefined && watched.verifyUntilMs !== null && watched.verifyUntilMs > now) {
      await this.#ctx.store.recordOpen(f.machineId, f.key, now)
      await regress(this.#ctx, watched, now, `The problem returned: ${f.title}`, f)
      return
    }

    await this.#ctx.store.recordOpen(f.machineId, f.key, now)
    const opens = await this.#ctx.store.opensSince(f.machineId, f.key, now - this.#ctx.policy.flapWindowMs)
    if (opens >= this.#ctx.policy.flapCount) {
      const prev = await this.#ctx.store.latest(f.machineId, f.key, ['auto-resolved'])
      if (prev !== undefined && prev.resolvedMs !== null && prev.resolvedMs >= now - this.#ctx.policy.flapWindowMs) {
        await this.#holdFlapping(prev, f, now, opens)
        return
      }
    }
    await this.#open(f, now, extraEvidence)
  }

  async #open (f: Finding, now: number, extraEvidence?: Record<string, unknown>): Promise<IncidentRow> {
    const evidence: Record<string, unknown> = { ...f.evidence, ...extraEvidence, detectedAt: iso(f.atMs) }
    const row: IncidentRow = {
      id: newId('inc'),
      machineId: f.machineId,
      hostname: f.machineId === FLEET ? 'fleet' : this.#ctx.hostnameOf(f.machineId) ?? f.machineId,
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
    row.suggestions = (await this.#ctx.kb.suggest({ kind: f.kind, key: f.key, title: f.title, series: f.series, software }))
      .map((s) => ({ articleId: s.articleId, score: s.score }))
    await this.#ctx.store.insert(row)
    await this.#ctx.store.addTimeline(row.id, now, 'opened', { text: f.title })

    if (f.machineId === FLEET) await this.#adoptChildren(row, f, now)
    else await this.#findParent(row, f, now)
    await this.#ctx.publish('opened', row, 'incident.opened')
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
  async #fold (f: Finding, now: number): Promise<void> {
    this.#ctx.onFolded(f.machineId)
    const cap = this.#ctx.policy.maxOpenPerMachine
    const active = await this.#ctx.store.active(f.machineId, OVERFLOW_KEY)
    if (active === undefined) {
      await this.#open({
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
    const notify = await this.#raiseSeverity(active, f, now) ? 'severity' : undefined
    await this.#ctx.store.save(active)
    await this.#ctx.publish('updated', active, notify === undefined ? undefined : 'incident.updated', notify)
  }

  /** Raises the incident to the finding's severity when that is worse, with a timeline entry; true if it did. */
  async #raiseSeverity (inc: IncidentRow, f: Finding, now: number): Promise<boolean> {
    if (SEVERITY_RANK[f.severity] <= SEVERITY_RANK[inc.severity]) return false
    await this.#ctx.store.addTimeline(inc.id, now, 'severity', { text: `${inc.severity} → ${f.severity}: ${f.title}` })
    inc.severity = f.severity
    return true
  }

  async #repeat (inc: IncidentRow, f: Finding, now: number): Promise<void> {
    const returned = !inc.conditionOpen
    inc.count++
    inc.lastSeenMs = now
    inc.updatedMs = now
    inc.conditionOpen = true
    inc.clearedMs = null
    let notify: string | undefined
    if (await this.#raiseSeverity(inc, f, now)) {
      inc.title = f.title
      notify = 'severity'
    }
    if (f.impactAtMs !== undefined) inc.impactMs = f.impactAtMs
    if (f.suspectedChange !== undefined && inc.suspectedChange === null) {
      inc.suspectedChange = f.suspectedChange
      await this.#ctx.store.addTimeline(inc.id, now, 'suspected-change', { text: `${f.suspectedChange.app} → ${f.suspectedChange.to}` })
      if (inc.parentId === null) await this.#findParent(inc, f, now)
    }
    if (returned) {
      await this.#ctx.store.recordOpen(inc.machineId, inc.key, now)
      await this.#ctx.store.addTimeline(inc.id, now, 'returned', { text: f.title })
      const opens = await this.#ctx.store.opensSince(inc.machineId, inc.key, now - this.#ctx.policy.flapWindowMs)
      if (!inc.flapping && opens >= this.#ctx.policy.flapCount) {
        inc.flapping = true
        await this.#ctx.store.addTimeline(inc.id, now, 'flapping', { text: `opened ${opens} times within ${Math.round(this.#ctx.policy.flapWindowMs / 60_000)} min: held open` })
        notify = 'flapping'
      }
    }
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('updated', inc, notify === undefined ? undefined : 'incident.updated', notify)
  }

  async #clear (f: Finding, now: number): Promise<void> {
    const inc = await this.#ctx.store.active(f.machineId, f.key) ?? await this.#ctx.store.latest(f.machineId, f.key, ['resolved'])
    if (inc === undefined || !inc.conditionOpen) return
    inc.conditionOpen = false
    inc.updatedMs = now
    if (ACTIVE_STATES.includes(inc.state)) inc.clearedMs = now
    await this.#ctx.store.addTimeline(inc.id, now, 'cleared', { text: f.title })
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('updated', inc)
  }

  async #holdFlapping (inc: IncidentRow, f: Finding, now: number, opens: number): Promise<void> {
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
    await this.#ctx.store.addTimeline(inc.id, now, 'flapping', { text: `opened ${opens} times within ${Math.round(this.#ctx.policy.flapWindowMs / 60_000)} min: reopened and held open until it stays clear` })
    await this.#ctx.store.save(inc)
    await this.#ctx.publish('updated', inc, 'incident.updated', 'flapping')
  }

  /* ---- fleet-wide grouping ---- */

  /** A fleet finding (change correlation): the affected machines' incidents of that key become its children. */
  async #adoptChildren (parent: IncidentRow, f: Finding, now: number): Promise<void> {
    const machines = Array.isArray(f.evidence.machines) ? f.evidence.machines as string[] : []
    const childKey = typeof f.evidence.findingKey === 'string' ? f.evidence.findingKey : undefined
    if (childKey === undefined) return
    for (const m of machines) {
      const child = await this.#ctx.store.active(m, childKey)
      if (child === undefined || child.parentId !== null) continue
      await this.#attach(child, parent, now)
    }
  }

  /** Links a machine's incident to a fleet parent: its suspected change's, or one grouping many machines with the same key. */
  async #findParent (row: IncidentRow, f: Finding, now: number): Promise<void> {
    if (f.suspectedChange !== undefined) {
      const prefix = `change:${f.suspectedChange.app}:${f.suspectedChange.to}:`
      const parent = (await this.#ctx.store.list({ state: 'active', machineId: FLEET, limit: 500 })).items.find((p) => p.key.startsWith(prefix))
      if (parent !== undefined) { await this.#attach(row, parent, now); return }
    }
    const parentKey = `fleet:${f.key}`
    const existing = await this.#ctx.store.active(FLEET, parentKey)
    if (existing !== undefined) { await this.#attach(row, existing, now); return }
    const peers = (await this.#ctx.store.activeWithKeySince(f.key, now - this.#ctx.policy.fleetWindowMs)).filter((p) => p.parentId === null)
    if (peers.length < this.#ctx.policy.fleetMin) return
    const worst = peers.reduce<Severity>((w, p) => SEVERITY_RANK[p.severity] > SEVERITY_RANK[w] ? p.severity : w, 'info')
    const parent = await this.#open({
      machineId: FLEET,
      key: parentKey,
      kind: f.kind,
      state: 'open',
      severity: worst,
      atMs: f.atMs,
      title: `${f.title.replace(/\s*\(.*\)$/, '')} — on ${peers.length} machines within ${Math.round(this.#ctx.policy.fleetWindowMs / 60_000)} min`,
      evidence: { findingKey: f.key, machines: peers.map((p) => p.machineId) },
      ...(f.series !== undefined ? { series: f.series } : {})
    }, now)
    // opening the parent adopted the stored peers, this row included; keep the in-memory copy in step
    row.parentId = parent.id
  }

  async #attach (child: IncidentRow, parent: IncidentRow, now: number): Promise<void> {
    child.parentId = parent.id
    child.updatedMs = now
    await this.#ctx.store.addTimeline(child.id, now, 'grouped', { text: `part of fleet incident ${parent.id}: ${parent.title}` })
    await this.#ctx.store.save(child)
    if (child.machineId !== parent.machineId) {
      await this.#ctx.store.addTimeline(parent.id, now, 'grouped', { text: `${child.hostname}: ${child.title}` })
    }
  }
}
