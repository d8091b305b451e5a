/**
 * The machine page's charts: which series go in which chart, history from the
 * metrics API for the chosen range, and live points appended from reports.
 */
import { api } from '../api.js'
import { t, type MessageKey } from '../i18n/index.js'
import { TimeChart, type ChartSeries } from '../components/chart.js'
import type { MetricValue, SeriesInfo } from '../types.js'

export interface RangeChoice { id: string, ms: number, step: string }
export const RANGES: RangeChoice[] = [
  { id: '15m', ms: 15 * 60_000, step: '5s' },
  { id: '1h', ms: 3_600_000, step: '15s' },
  { id: '6h', ms: 6 * 3_600_000, step: '1m' },
  { id: '24h', ms: 86_400_000, step: '5m' },
  { id: '7d', ms: 7 * 86_400_000, step: '30m' },
  { id: '30d', ms: 30 * 86_400_000, step: '2h' }
]

interface Group {
  id: string
  title: MessageKey
  unit: string
  probe: string
  match: (s: { name: string, labels?: Record<string, string> }) => boolean
  label: (s: { name: string, labels?: Record<string, string> }) => string
}

const GROUPS: Group[] = [
  { id: 'cpu', title: 'chart.cpu', unit: 'percent', probe: 'cpu', match: s => s.name === 'cpu.load_pct', label: () => t('chart.cpu') },
  { id: 'mem', title: 'chart.mem', unit: 'percent', probe: 'memory', match: s => s.name === 'mem.used_pct' || s.name === 'swap.used_pct', label: s => s.name === 'mem.used_pct' ? t('series.ram') : t('series.swap') },
  { id: 'disk', title: 'chart.disk', unit: 'percent', probe: 'filesystems', match: s => s.name === 'fs.used_pct', label: s => { const m = s.labels?.mount ?? '?'; return /^[A-Z]:$/.test(m) ? m + '\\' : m } },
  { id: 'temp', title: 'chart.temp', unit: 'celsius', probe: 'temperatures', match: s => s.name === 'temp.cpu_c' || s.name === 'temp.cpu_max_c', label: s => s.name === 'temp.cpu_c' ? t('series.cpuTemp') : t('series.cpuMax') },
  {
    id: 'net', title: 'chart.net', unit: 'bytes_per_second', probe: 'network',
    match: s => (s.name === 'net.rx_bytes_per_sec' || s.name === 'net.tx_bytes_per_sec') && s.labels?.iface !== 'lo',
    label: s => t(s.name === 'net.rx_bytes_per_sec' ? 'series.rx' : 'series.tx', { iface: s.labels?.iface ?? '' })
  },
  { id: 'battery', title: 'chart.battery', unit: 'percent', probe: 'battery', match: s => s.name === 'battery.charge_pct' || s.name === 'battery.health_pct', label: s => s.name === 'battery.charge_pct' ? t('series.charge') : t('series.health') }
]
export const CHART_PROBES = GROUPS.map(g => ({ id: g.id, probe: g.probe }))

const MAX_SERIES_PER_CHART = 8

/** Same canonical key as protocol/series.ts (labels sorted), so live values find their series. */
export function keyOf (name: string, labels?: Record<string, string>): string {
  if (labels === undefined) return name
  const keys = Object.keys(labels).sort()
  if (keys.length === 0) return name
  return name + '{' + keys.map(k => `${k}=${JSON.stringify(labels[k])}`).join(',') + '}'
}

export class MachineCharts {
  readonly charts = new Map<string, TimeChart>()
  readonly #machineId: string
  #range: RangeChoice
  /** series key → its name and labels, for history queries */
  readonly #known = new Map<string, SeriesInfo>()
  #loadGen = 0
  /** live points received while history loads, re-applied after it */
  readonly #pending: Array<{ key: string, atMs: number, value: number }> = []
  #loadingHistory = false

  constructor (machineId: string, range: RangeChoice) {
    this.#machineId = machineId
    this.#range = range
    for (const g of GROUPS) this.charts.set(g.id, new TimeChart({ id: g.id, title: t(g.title), unit: g.unit, windowMs: range.ms }))
  }

  get range (): RangeChoice { return this.#range }

  /** Assigns series to charts; returns the ids of charts that have at least one series. */
  setSeries (series: SeriesInfo[]): Set<string> {
    const used = new Set<string>()
    for (const g of GROUPS) {
      const mine: ChartSeries[] = []
      for (const s of series) {
        if (!g.match(s) || mine.length >= MAX_SERIES_PER_CHART) continue
        const key = keyOf(s.name, s.labels)
        this.#known.set(key, s)
        mine.push({ key, label: g.label(s), unit: s.unit })
      }
      mine.sort((a, b) => a.label.localeCompare(b.label))
      this.charts.get(g.id)?.setSeries(mine)
      if (mine.length > 0) used.add(g.id)
    }
    return used
  }

  async setRange (range: RangeChoice): Promise<void> {
    this.#range = range
    for (const c of this.charts.values()) c.setWindow(range.ms)
    await this.loadHistory()
  }

  /** Fetches every shown series over the range, one request per series, in parallel. */
  async loadHistory (): Promise<void> {
    const gen = ++this.#loadGen
    this.#loadingHistory = true
    this.#pending.length = 0
    const jobs: Array<Promise<void>> = []
    for (const chart of this.charts.values()) {
      for (const key of chart.seriesKeys) {
        const info = this.#known.get(key)
        if (info === undefined) continue
        jobs.push(api.metrics(this.#machineId, { name: info.name, labels: info.labels, from: this.#range.id, step: this.#range.step, agg: 'avg' }).then((res) => {
          if (gen !== this.#loadGen) return
          const s = res.series.find(x => keyOf(x.name, x.labels) === key) ?? res.series[0]
          chart.setPoints(key, s?.points ?? [])
        }, () => { /* one failed series leaves its chart empty; others still draw */ }))
      }
    }
    await Promise.all(jobs)
    if (gen !== this.#loadGen) return
    this.#loadingHistory = false
    for (const p of this.#pending) this.#appendTo(p.key, p.atMs, p.value)
    this.#pending.length = 0
    this.render()
  }

  /** Adds a report's values; returns true when a chart changed (the caller schedules render()). */
  addReport (atMs: number, metrics: MetricValue[]): boolean {
    let changed = false
    for (const m of metrics) {
      const key = keyOf(m.name, m.labels)
      if (this.#loadingHistory) this.#pending.push({ key, atMs, value: m.value })
      if (this.#appendTo(key, atMs, m.value)) changed = true
    }
    return changed
  }

  /** True when a report carries a chartable series this page does not know yet (a new disk, say). */
  hasUnknownSeries (metrics: MetricValue[]): boolean {
    return metrics.some(m => !this.#known.has(keyOf(m.name, m.labels)) && GROUPS.some(g => g.match(m)))
  }

  #appendTo (key: string, atMs: number, value: number): boolean {
    let changed = false
    for (const c of this.charts.values()) if (c.append(key, atMs, value)) changed = true
    return changed
  }

  render (): void {
    const now = Date.now()
    for (const c of this.charts.values()) c.render(now)
  }

  destroy (): void {
    this.#loadGen++
    for (const c of this.charts.values()) c.destroy()
  }
}
