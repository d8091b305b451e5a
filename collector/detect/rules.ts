/**
 * The rule set: thresholds, forecasts, anomaly exclusions and the fleet
 * detectors' settings, with per-group overrides. Defaults live in
 * default-rules.json; docs/detection.md explains each field.
 */
import defaultRulesJson from './default-rules.json' with { type: 'json' }

/** A fixed limit held for a duration, cleared with hysteresis. */
export interface ThresholdRule {
  id: string
  /** metric name, e.g. `fs.used_pct` (any labels) */
  metric: string
  op: '>' | '<'
  warning?: number
  critical?: number
  /** the value must be back past this level to clear (hysteresis) */
  clear: number
  /** the breach must hold this long before opening, ms */
  forMs: number
  /** `{value}` and label names are substituted */
  title: string
}

/** Time-to-limit from the trend of a series. */
export interface ForecastRule {
  id: string
  metric: string
  /** fixed limit in the metric's unit… */
  limit?: number
  /** …or a host fact times a fraction (e.g. memTotalBytes × 0.9) */
  limitFromHost?: 'memTotalBytes'
  limitFraction?: number
  /** open when the predicted impact is within this, ms */
  horizonMs: number
  /** critical when within this, ms */
  criticalWithinMs: number
  /** trend fitted over this much recent history, ms */
  windowMs: number
  /** history needed before forecasting, ms */
  minSpanMs: number
  /** the fitted rise over the window must exceed this (metric unit)… */
  minRise?: number
  /** …or this fraction of the limit */
  minRiseFraction?: number
  title: string
}

export interface FleetSignal {
  id: string
  metric: string
  /** only samples taken while this metric of the same machine is below `whenBelow` */
  whenMetric?: string
  whenBelow?: number
  /** minimum absolute distance from the cohort median, metric unit */
  minDiff: number
  title: string
}

export interface AnomalyRules {
  severity: 'info' | 'warning' | 'critical'
  /** metrics without a learned baseline: exact names, or prefixes written `name.*` */
  exclude: string[]
  /**
   * Smallest change worth a finding, per unit of the metric (collector path, where
   * the unit is known): an episode whose value is closer than this to what was
   * expected stays quiet. E.g. `{ "percent": 10 }`: 44.3 % → 44.4 % is never news.
   */
  minChange?: Record<string, number>
  /** the same as a fraction of the expected value, for units without an absolute floor */
  minRelativeChange?: number
}

/** Builds a matcher for `exclude`-style lists (exact names and `prefix.*`). */
export function metricMatcher (patterns: readonly string[]): (metric: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('.*')))
  const prefixes = patterns.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -1))
  return (metric) => exact.has(metric) || prefixes.some((p) => metric.startsWith(p))
}

export interface RuleSet {
  version: 1
  thresholds: ThresholdRule[]
  forecasts: ForecastRule[]
  anomaly: AnomalyRules
  offline: { minWeeks: number, onlineProbability: number, silenceMs: number }
  fleet: { minCohort: number, z: number, clearZ: number, signals: FleetSignal[] }
  change: { windowMs: number, minAffected: number, minShare: number, maxOtherShare: number }
  /** group name → rule id → fields replacing the default rule's */
  groups: Record<string, Record<string, Partial<ThresholdRule> & Partial<ForecastRule>>>
}

/** The rules shipped in default-rules.json (a fresh copy each call). */
export function defaultRules (): RuleSet {
  return structuredClone(defaultRulesJson as RuleSet)
}

/** Rules by metric name, with a group's overrides applied; cached per group. */
export class RuleIndex {
  private readonly cache = new Map<string, { thresholds: Map<string, ThresholdRule[]>, forecasts: Map<string, ForecastRule[]> }>()
  constructor (readonly rules: RuleSet) {}

  thresholdsFor (metric: string, group = ''): ThresholdRule[] {
    return this.forGroup(group).thresholds.get(metric) ?? []
  }

  forecastsFor (metric: string, group = ''): ForecastRule[] {
    return this.forGroup(group).forecasts.get(metric) ?? []
  }

  private forGroup (group: string): { thresholds: Map<string, ThresholdRule[]>, forecasts: Map<string, ForecastRule[]> } {
    let c = this.cache.get(group)
    if (c !== undefined) return c
    const over = this.rules.groups[group] ?? {}
    c = { thresholds: new Map(), forecasts: new Map() }
    for (const r of this.rules.thresholds) {
      const eff = { ...r, ...(over[r.id] as Partial<ThresholdRule> | undefined) }
      const list = c.thresholds.get(eff.metric) ?? []
      list.push(eff)
      c.thresholds.set(eff.metric, list)
    }
    for (const r of this.rules.forecasts) {
      const eff = { ...r, ...(over[r.id] as Partial<ForecastRule> | undefined) }
      const list = c.forecasts.get(eff.metric) ?? []
      list.push(eff)
      c.forecasts.set(eff.metric, list)
    }
    this.cache.set(group, c)
    return c
  }
}

/** Fill `{name}` placeholders from a record; unknown names stay as they are. */
export function fillTitle (template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{([a-z_]+)\}/g, (m, k: string) => {
    const v = vars[k]
    if (v === undefined) return m
    return typeof v === 'number' ? formatNumber(v) : v
  })
}

/** Short human number: 2 decimals at most, trailing zeros dropped. */
export function formatNumber (v: number): string {
  if (!Number.isFinite(v)) return String(v)
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(1)} G`
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)} M`
  return String(Math.round(v * 100) / 100)
}

/** "2.3 days", "5.1 h", "40 min". */
export function formatDuration (ms: number): string {
  if (ms >= 86_400_000 * 2) return `${(ms / 86_400_000).toFixed(1)} days`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${Math.max(1, Math.round(ms / 60_000))} min`
}
