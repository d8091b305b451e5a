/**
 * (Over 350 lines: the three ways in — reports, packed rows, single points — share
 * one per-series state and its save/restore; the detectors themselves live beside it.)
 *
 * The detection engine: one object the collector feeds with every validated
 * report, and the replay tool with single points. Same code path in both, so what
 * bench/nab.ts measures is what production does.
 *
 * Per series: threshold rules, forecasts and a learned baseline (baseline.ts).
 * Per machine: expected-online hours. Fleet-wide, on tick: cohort outliers and
 * change correlation. Pure logic: no I/O, no timers; the caller owns the clock.
 */
import type { InstalledApp, Report } from '../../protocol/v1.js'
import { parseSeriesKey, sameLabels, seriesKey } from '../../protocol/series.js'
import { type MetricLayout } from '../store/metric-layout.js'
import { Baseline, featureName, type BaselineParams, type BaselineState } from './baseline.js'
import { ChangeTracker } from './change-correlation.js'
import { judgeSilence, newOnlineState, recordReport, usualOnline, type OnlineState } from './expected-online.js'
import { FLEET_MACHINE_ID, type Finding, type Severity } from './finding.js'
import { judgeCohort, recordSignal, type CohortMember, type SignalState } from './fleet-outliers.js'
import { newForecastState, stepForecast, type ForecastState } from './forecast.js'
import { defaultRules, fillTitle, formatDuration, formatNumber, metricMatcher, RuleIndex, type FleetSignal, type ForecastRule, type RuleSet, type ThresholdRule } from './rules.js'
import { newThresholdState, stepThreshold, type ThresholdState } from './threshold.js'

export type { Finding, FindingKind, Severity, SuspectedChange } from './finding.js'
export type { RuleSet } from './rules.js'
export { FLEET_MACHINE_ID } from './finding.js'

export interface EngineOptions {
  /** rule set; default: default-rules.json */
  rules?: RuleSet
  /** clock used when a report's sampledAt is unusable; default Date.now */
  now?: () => number
  /** baseline detector tunables (see baseline.ts) */
  baseline?: Partial<BaselineParams>
  /** run the learned baseline on every series not excluded by the rules; default true */
  anomaly?: boolean
  /** series per machine the engine keeps state for (default 5000); further series are ignored, so memory stays bounded */
  maxSeriesPerMachine?: number
}

interface SeriesState {
  b: Baseline | undefined
  /** the open anomaly episode was too small to report (its clear stays quiet too) */
  q: boolean | undefined
  th: Record<string, ThresholdState> | undefined
  fc: Record<string, ForecastState> | undefined
}

/**
 * Every series state has all four fields from the start: built as `{}` and filled
 * as rules applied, states had a dozen shapes, and the per-point code that reads
 * them ran megamorphic (measured 2-3x slower in some runs).
 */
function newSeriesState (): SeriesState {
  return { b: undefined, q: undefined, th: undefined, fc: undefined }
}

/**
 * What observing one series needs, resolved once: reports repeat the same metrics
 * in the same order, so each machine keeps the previous report's slots and a
 * metric at the same position with the same name and labels reuses its slot (no
 * series-key string, no map lookups, no rule lookups per point).
 */
interface Slot {
  name: string
  labels: Record<string, string> | undefined
  series: string
  metric: string
  /** undefined once the machine reached its series bound */
  st: SeriesState | undefined
  thresholds: ThresholdRule[]
  forecasts: ForecastRule[]
  anomaly: boolean
  signals: FleetSignal[]
  cond: boolean
  /** the series' state per threshold rule, in slot.thresholds order (the same objects as st.th) */
  thStates: ThresholdState[] | undefined
  /** the same for forecasts; a rule's entry stays empty until its limit is known */
  fcStates: Array<ForecastState | undefined> | undefined
}

/** The host facts detection uses (observePacked). */
export interface PackedHost { group?: string, model?: string, osVersion?: string, memTotalBytes?: number }

interface ExportedSeries { b?: BaselineState, th?: Record<string, ThresholdState>, fc?: Record<string, ForecastState>, q?: boolean }

interface MachineInfo {
  group: string
  cohort: string
  memTotalBytes?: number
  online?: OnlineState
  signals: Record<string, SignalState>
  /** latest value of metrics that condition fleet signals (e.g. cpu.load_pct) */
  cond: Record<string, number>
}

const STATE_VERSION = 2
/** anomalies at least this far past their records count as evidence for change correlation */
const STRONG_ANOMALY = 3

export class DetectionEngine {
  private readonly rules: RuleSet
  private readonly index: RuleIndex
  private readonly now: () => number
  private readonly baselineParams: Partial<BaselineParams>
  private readonly anomalyOn: boolean
  private readonly maxSeries: number
  private readonly excluded: (metric: string) => boolean
  private readonly condMetrics: Set<string>
  private series = new Map<string, SeriesState>()
  private machines = new Map<string, MachineInfo>()
  /** series names per machine, so one machine's state can be saved on its own */
  private byMachine = new Map<string, string[]>()
  /** per machine: the previous report's slots, and the group they were resolved for */
  private layouts = new Map<string, { group: string, slots: Slot[], src: MetricLayout | undefined }>()
  /** per machine: the host facts object observePacked last took the group, cohort and memory from */
  private hostSeen = new Map<string, PackedHost>()
  private readonly changes = new ChangeTracker()

  constructor (opts: EngineOptions = {}) {
    this.rules = opts.rules ?? defaultRules()
    this.index = new RuleIndex(this.rules)
    this.now = opts.now ?? Date.now
    this.baselineParams = opts.baseline ?? {}
    this.anomalyOn = opts.anomaly ?? true
    this.maxSeries = opts.maxSeriesPerMachine ?? 5000
    this.excluded = metricMatcher(this.rules.anomaly.exclude)
    this.condMetrics = new Set(this.rules.fleet.signals.flatMap((s) => s.whenMetric === undefined ? [] : [s.whenMetric]))
  }

  /** Feed one report of one machine (already validated); returns new findings / clears. */
  observeReport (machineId: string, report: Report, receivedAtMs: number, group?: string): Finding[] {
    const m = this.machine(machineId)
    if (group !== undefined) m.group = group
    m.cohort = report.host.model !== undefined && report.host.model !== '' ? `${report.host.model} / ${report.host.osVersion}` : ''
    if (report.host.memTotalBytes !== undefined) m.memTotalBytes = report.host.memTotalBytes
    let atMs = Date.parse(report.sampledAt)
    if (!Number.isFinite(atMs)) atMs = Number.isFinite(receivedAtMs) ? receivedAtMs : this.now()
    const out = this.begin(machineId, m, atMs, receivedAtMs, report.inventory?.apps)

    let layout = this.layouts.get(machineId)
    if (layout === undefined || layout.group !== m.group) {
      layout = { group: m.group, slots: [], src: undefined }
      this.layouts.set(machineId, layout)
    }
    const metrics = report.metrics
    const slots: Slot[] = new Array(metrics.length)
    for (let i = 0; i < metrics.length; i++) {
      const mv = metrics[i]
      const prev = layout.slots[i]
      slots[i] = prev !== undefined && prev.name === mv.name && sameLabels(prev.labels, mv.labels)
        ? prev
        : this.slot(machineId, m, seriesKey(mv.name, mv.labels), mv.name, mv.labels)
      if (slots[i].cond) m.cond[mv.name] = mv.value
    }
    layout.slots = slots
    layout.src = undefined
    for (let i = 0; i < metrics.length; i++) {
      if (slots[i].st === undefined) continue
      this.observeSlot(machineId, m, slots[i], atMs, metrics[i].value, metrics[i].unit, out)
    }
    return out
  }

  /**
   * The same as observeReport, for a report whose metrics come as a layout and a
   * run of values (how the collector hands reports to the engine's thread). While a
   * machine sends the same `layout` object and the same `host` object, nothing is
   * looked up or compared per metric and no object is built per value.
   */
  observePacked (machineId: string, layout: MetricLayout, values: Float64Array, from: number, atMs: number, receivedAtMs: number, host: PackedHost, apps?: InstalledApp[]): Finding[] {
    const m = this.machine(machineId)
    if (this.hostSeen.get(machineId) !== host) {
      if (host.group !== undefined) m.group = host.group
      m.cohort = host.model !== undefined && host.model !== '' ? `${host.model} / ${host.osVersion}` : ''
      if (host.memTotalBytes !== undefined) m.memTotalBytes = host.memTotalBytes
      this.hostSeen.set(machineId, host)
    }
    if (!Number.isFinite(atMs)) atMs = Number.isFinite(receivedAtMs) ? receivedAtMs : this.now()
    const out = this.begin(machineId, m, atMs, receivedAtMs, apps)

    const n = layout.names.length
    let resolved = this.layouts.get(machineId)
    if (resolved === undefined || resolved.group !== m.group || resolved.src !== layout) {
      const prevSlots = resolved === undefined || resolved.group !== m.group ? [] : resolved.slots
      const slots: Slot[] = new Array(n)
      for (let i = 0; i < n; i++) {
        const name = layout.names[i]
        const labels = layout.labels[i]
        const prev = prevSlots[i]
        slots[i] = prev !== undefined && prev.name === name && sameLabels(prev.labels, labels)
          ? prev
          : this.slot(machineId, m, seriesKey(name, labels), name, labels)
      }
      resolved = { group: m.group, slots, src: layout }
      this.layouts.set(machineId, resolved)
    }
    const slots = resolved.slots
    for (let i = 0; i < n; i++) {
      const slot = slots[i]
      if (slot.cond) m.cond[slot.name] = values[from + i]
    }
    for (let i = 0; i < n; i++) {
      if (slots[i].st === undefined) continue
      this.observeSlot(machineId, m, slots[i], atMs, values[from + i], layout.units[i], out)
    }
    return out
  }

  /** What every report does before its metrics: online hours, inventory. */
  private begin (machineId: string, m: MachineInfo, atMs: number, receivedAtMs: number, apps: InstalledApp[] | undefined): Finding[] {
    const out: Finding[] = []
    if (m.online === undefined) m.online = newOnlineState(atMs)
    if (recordReport(m.online, atMs, receivedAtMs)) {
      out.push({ machineId, key: 'offline', kind: 'offline', state: 'clear', severity: 'warning', atMs, title: 'Reporting again', evidence: {} })
    }
    if (apps !== undefined) this.changes.recordApps(machineId, apps, atMs)
    return out
  }

  /** Resolves a series of a machine: its state (created on first use, within the bound) and the rules that apply. */
  private slot (machineId: string, m: MachineInfo, series: string, metric: string, labels: Record<string, string> | undefined): Slot {
    const sk = machineId + '\u0000' + series
    let st = this.series.get(sk)
    if (st === undefined) {
      let list = this.byMachine.get(machineId)
      if (list === undefined) { list = []; this.byMachine.set(machineId, list) }
      if (list.length < this.maxSeries) {
        st = newSeriesState()
        this.series.set(sk, st)
        list.push(series)
      }
    }
    return {
      name: metric,
      labels,
      series,
      metric,
      st,
      thresholds: this.index.thresholdsFor(metric, m.group),
      forecasts: this.index.forecastsFor(metric, m.group),
      anomaly: this.anomalyOn && !this.excluded(metric),
      signals: this.rules.fleet.signals.filter((sig) => sig.metric === metric),
      cond: this.condMetrics.has(metric),
      thStates: undefined,
      fcStates: undefined
    }
  }

  /**
   * Single point API used by replay and by observeReport. With a `unit` (the
   * collector path) an anomaly must also be a change worth a person's attention
   * (`anomaly.minChange` / `minRelativeChange`); replay passes none.
   */
  observePoint (machineId: string, series: string, atMs: number, value: number, unit?: string): Finding[] {
    if (!Number.isFinite(value)) return []
    const m = this.machine(machineId)
    const brace = series.indexOf('{')
    const metric = brace === -1 ? series : series.slice(0, brace)
    const slot = this.slot(machineId, m, series, metric, undefined)
    const out: Finding[] = []
    if (slot.st !== undefined) this.observeSlot(machineId, m, slot, atMs, value, unit, out)
    return out
  }

  private observeSlot (machineId: string, m: MachineInfo, slot: Slot, atMs: number, value: number, unit: string | undefined, out: Finding[]): void {
    if (!Number.isFinite(value)) return
    const st = slot.st!
    const series = slot.series
    const outStart = out.length
    let labels: Record<string, string> | undefined

    const thresholds = slot.thresholds
    if (thresholds.length > 0 && slot.thStates === undefined) {
      const dict = st.th ??= {}
      slot.thStates = thresholds.map(rule => dict[rule.id] ??= newThresholdState())
    }
    for (let j = 0; j < thresholds.length; j++) {
      const rule = thresholds[j]
      const ev = stepThreshold(rule, slot.thStates![j], atMs, value)
      if (ev === undefined) continue
      labels ??= parseSeriesKey(series)?.labels ?? {}
      out.push({
        machineId, key: `rule:${rule.id}:${series}`, kind: 'threshold', state: ev.state, severity: ev.severity, series, atMs,
        title: ev.state === 'open' ? fillTitle(rule.title, { ...labels, value }) : `${fillTitle(rule.title, { ...labels, value })} (back to normal)`,
        evidence: { value, limit: ev.limit, op: rule.op, clear: rule.clear, heldMs: ev.heldMs, forMs: rule.forMs }
      })
    }

    const forecasts = slot.forecasts
    for (let j = 0; j < forecasts.length; j++) {
      const rule = forecasts[j]
      const limit = rule.limit ?? (rule.limitFromHost === 'memTotalBytes' && m.memTotalBytes !== undefined ? m.memTotalBytes * (rule.limitFraction ?? 1) : NaN)
      if (!Number.isFinite(limit)) continue
      const states = slot.fcStates ??= new Array<ForecastState | undefined>(forecasts.length).fill(undefined)
      const fs = states[j] ??= (st.fc ??= {})[rule.id] ??= newForecastState()
      const ev = stepForecast(rule, fs, limit, atMs, value)
      if (ev === undefined) continue
      labels ??= parseSeriesKey(series)?.labels ?? {}
      const eta = ev.impactAtMs - atMs
      out.push({
        machineId, key: `forecast:${rule.id}:${series}`, kind: 'forecast', state: ev.state, severity: ev.severity, series, atMs,
        title: fillTitle(rule.title, { ...labels, eta: formatDuration(eta) }) + (ev.state === 'clear' ? ' (trend gone)' : ''),
        evidence: { value, fitted: ev.fitted, limit: ev.limit, slopePerDay: ev.slopePerDay, horizonMs: rule.horizonMs, points: ev.points },
        impactAtMs: ev.impactAtMs
      })
    }

    if (slot.anomaly) {
      const b = st.b ??= new Baseline(this.baselineParams)
      const step = b.observe(atMs, value)
      let report = step.opened || step.cleared || step.escalated
      if (unit !== undefined) {
        if (step.cleared) {
          report = st.q !== true
          st.q = undefined
        } else if (report || st.q === true) {
          // Inside a quiet episode a later point that is big enough is its first report.
          if (this.meaningful(unit, value, step.expected)) {
            report = true
            st.q = undefined
          } else {
            if (step.opened) st.q = true
            report = false
          }
        }
      }
      if (report) {
        out.push({
          machineId, key: `anomaly:${series}`, kind: 'anomaly', state: step.cleared ? 'clear' : 'open',
          severity: this.rules.anomaly.severity, series, atMs,
          title: !step.cleared
            ? `${series} unusual: ${formatNumber(value)} (usually ≈ ${formatNumber(step.expected)})`
            : `${series} back to its usual range`,
          evidence: { value, expected: step.expected, score: Math.round(step.score * 100) / 100, feature: featureName(step.feature) }
        })
      }
    }

    for (const sig of slot.signals) {
      if (sig.whenMetric !== undefined && !((m.cond[sig.whenMetric] ?? Infinity) < (sig.whenBelow ?? Infinity))) continue
      m.signals[sig.id] = recordSignal(m.signals[sig.id], value)
    }

    for (let i = outStart; i < out.length; i++) {
      const f = out[i]
      if (f.state !== 'open') continue
      const strong = f.kind !== 'anomaly' || (f.evidence.score as number) >= STRONG_ANOMALY
      const s = this.changes.recordFinding(f, strong)
      if (s !== undefined) f.suspectedChange = s
    }
  }

  /**
   * Whether this machine being silent now is its habit: true (it is usually off at
   * this hour of the week), false (it is usually up, or an offline finding is open),
   * undefined (not enough history yet). Reads state only.
   */
  silenceExpected (machineId: string, nowMs: number): boolean | undefined {
    const on = this.machines.get(machineId)?.online
    if (on === undefined) return undefined
    if (on.open) return false
    const off = this.rules.offline
    if (nowMs - on.firstMs < off.minWeeks * 7 * 86_400_000) return undefined
    return usualOnline(on, nowMs) < off.onlineProbability
  }

  /** Periodic: expected-online silence, fleet outliers, change correlation; called every ~30 s. */
  tick (nowMs: number): Finding[] {
    const out: Finding[] = []
    const off = this.rules.offline
    for (const [id, m] of this.machines) {
      if (m.online === undefined || m.online.open) continue
      const v = judgeSilence(m.online, nowMs, off)
      if (!v.silent) continue
      m.online.open = true
      out.push({
        machineId: id, key: 'offline', kind: 'offline', state: 'open', severity: 'warning', atMs: nowMs,
        title: `Silent for ${formatDuration(v.silentForMs)} at an hour it is usually online`,
        evidence: { lastSeenMs: m.online.lastSeenMs, usualOnlineProbability: Math.round(v.usual * 100) / 100, silentForMs: v.silentForMs }
      })
    }

    const cohorts = new Map<string, string[]>()
    for (const [id, m] of this.machines) {
      if (m.cohort === '') continue
      const l = cohorts.get(m.cohort) ?? []
      l.push(id)
      cohorts.set(m.cohort, l)
    }
    for (const [cohort, ids] of cohorts) {
      for (const sig of this.rules.fleet.signals) {
        const members: CohortMember[] = []
        for (const id of ids) {
          const s = this.machines.get(id)?.signals[sig.id]
          if (s !== undefined) members.push({ machineId: id, state: s })
        }
        for (const v of judgeCohort(sig, members, this.rules.fleet)) {
          const diff = v.value - v.median
          out.push({
            machineId: v.machineId, key: `outlier:${sig.id}`, kind: 'outlier', state: v.state, severity: 'warning', series: sig.metric, atMs: nowMs,
            title: v.state === 'open' ? fillTitle(sig.title, { diff: Math.abs(diff), value: v.value, median: v.median, cohort }) : `${sig.id} back in line with its ${cohort} siblings`,
            evidence: { value: v.value, cohortMedian: v.median, cohortMad: v.mad, z: Math.round(v.z * 100) / 100, cohortSize: v.cohortSize, cohort }
          })
        }
      }
    }

    for (const c of this.changes.correlate(nowMs, this.rules.change)) {
      const { app, from, to, affected, updated } = c.change
      out.push({
        machineId: FLEET_MACHINE_ID, key: `change:${app}:${to}:${c.key}`, kind: 'change', state: 'open', severity: 'warning', atMs: nowMs,
        title: `${c.key} on ${affected} of ${updated} machines that updated ${app}${from !== undefined ? ` from ${from}` : ''} to ${to}`,
        evidence: { machines: c.machines.slice(0, 50), findingKey: c.key, sinceMs: c.sinceMs },
        suspectedChange: c.change
      })
      for (const f of c.findings) out.push({ ...f, atMs: nowMs, suspectedChange: c.change })
    }
    return out
  }

  /** JSON-serialisable state, bounded by the number of series and machines. */
  exportState (): unknown {
    const machines: Array<[string, unknown]> = []
    for (const id of this.machineIds()) machines.push([id, this.exportMachine(id)])
    return { v: STATE_VERSION, perMachine: machines, global: this.exportGlobal() }
  }

  /** Restore after a collector restart (replaces the current state). */
  importState (state: unknown): void {
    const s = state as { v?: number, perMachine?: Array<[string, unknown]>, global?: unknown } | null
    if (s === null || typeof s !== 'object' || s.v !== STATE_VERSION) return
    this.series = new Map()
    this.machines = new Map()
    this.byMachine = new Map()
    this.layouts = new Map()
    this.hostSeen = new Map()
    for (const [id, m] of s.perMachine ?? []) this.importMachine(id, m)
    this.importGlobal(s.global)
  }

  /** Machines the engine holds state for. */
  machineIds (): string[] {
    return [...new Set([...this.machines.keys(), ...this.byMachine.keys()])]
  }

  /** One machine's state (its series and habits), JSON-serialisable; saved on its own so a large fleet never serialises all at once. */
  exportMachine (machineId: string): unknown {
    const series: Array<[string, ExportedSeries]> = []
    for (const name of this.byMachine.get(machineId) ?? []) {
      const st = this.series.get(machineId + '\u0000' + name)
      if (st === undefined) continue
      series.push([name, { b: st.b?.exportState(), th: st.th, fc: st.fc, ...(st.q === true ? { q: true } : {}) }])
    }
    return { v: STATE_VERSION, info: this.machines.get(machineId), series }
  }

  /** Restores one machine's state exported by {@link exportMachine} (replacing what the engine had for it). */
  importMachine (machineId: string, state: unknown): void {
    const s = state as { v?: number, info?: MachineInfo, series?: Array<[string, ExportedSeries]> } | null
    if (s === null || typeof s !== 'object' || s.v !== STATE_VERSION) return
    const copy = structuredClone(s)
    this.layouts.delete(machineId)
    this.hostSeen.delete(machineId)
    for (const name of this.byMachine.get(machineId) ?? []) this.series.delete(machineId + '\u0000' + name)
    const names: string[] = []
    for (const [name, v] of copy.series ?? []) {
      const st = newSeriesState()
      if (v.b !== undefined) st.b = Baseline.fromState(v.b, this.baselineParams)
      if (v.th !== undefined) st.th = v.th
      if (v.fc !== undefined) st.fc = v.fc
      if (v.q === true) st.q = true
      this.series.set(machineId + '\u0000' + name, st)
      names.push(name)
    }
    this.byMachine.set(machineId, names)
    if (copy.info !== undefined) this.machines.set(machineId, copy.info)
  }

  /** Fleet-wide state (change correlation). */
  exportGlobal (): unknown {
    return { v: STATE_VERSION, changes: this.changes.exportState() }
  }

  importGlobal (state: unknown): void {
    const s = state as { v?: number, changes?: unknown } | null
    if (s === null || typeof s !== 'object' || s.v !== STATE_VERSION) return
    this.changes.importState(structuredClone(s.changes))
  }

  /** Whether a departure from the expected value is large enough to tell a person about. */
  private meaningful (unit: string, value: number, expected: number): boolean {
    const a = this.rules.anomaly
    const diff = Math.abs(value - expected)
    const abs = a.minChange?.[unit]
    if (abs !== undefined) return diff >= abs
    const rel = a.minRelativeChange
    return rel === undefined || diff >= rel * Math.max(Math.abs(expected), Number.EPSILON)
  }

  /** Number of series with state (for metrics and the state-size benchmark). */
  get seriesCount (): number { return this.series.size }

  private machine (id: string): MachineInfo {
    let m = this.machines.get(id)
    if (m === undefined) { m = { group: '', cohort: '', signals: {}, cond: {} }; this.machines.set(id, m) }
    return m
  }
}

/** Severity order, for callers that keep the worst. */
export function severityRank (s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0
}
