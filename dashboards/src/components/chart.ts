/**
 * A time-series chart (uPlot, the only chart library here). Holds each series'
 * points by key so live reports append without refetching; the x axis is in
 * epoch ms, labelled in the viewer's language and time zone.
 */
import uPlot from 'uplot'
import { h, setText } from '../dom.js'
import { formatValue } from '../format.js'
import { lang } from '../i18n/index.js'
import { cssVar, onThemeChange } from '../theme.js'

export interface ChartSeries { key: string, label: string, unit: string }

const PALETTE = ['--c1', '--c2', '--c3', '--c4', '--c5', '--c6', '--c7', '--c8']

function axisTimes (splits: number[], spanMs: number): string[] {
  const opts: Intl.DateTimeFormatOptions = spanMs > 2 * 86_400_000
    ? { day: 'numeric', month: 'short' }
    : spanMs > 6 * 3_600_000 ? { weekday: 'short', hour: '2-digit', minute: '2-digit' } : { hour: '2-digit', minute: '2-digit' }
  const f = new Intl.DateTimeFormat(lang(), opts)
  return splits.map(v => f.format(v))
}

export class TimeChart {
  readonly el: HTMLElement
  readonly #plotBox: HTMLElement
  readonly #latest: HTMLElement
  readonly #unit: string
  #series: ChartSeries[] = []
  readonly #points = new Map<string, Array<[number, number]>>()
  #plot: uPlot | undefined
  #windowMs: number
  #max: number | undefined
  #endMs = Date.now()
  readonly #resize: ResizeObserver
  readonly #offTheme: () => void

  constructor (opts: { id: string, title: string, unit: string, windowMs: number, max?: number }) {
    this.#unit = opts.unit
    this.#windowMs = opts.windowMs
    this.#max = opts.max
    this.#latest = h('span', { class: 'chart-latest' })
    this.#plotBox = h('div', { class: 'chart-plot' })
    this.el = h('section', { class: 'card chart', dataset: { chart: opts.id, points: '0' } },
      h('header', { class: 'chart-head' }, h('h3', null, opts.title), this.#latest),
      this.#plotBox)
    this.#resize = new ResizeObserver(() => {
      const w = this.#plotBox.clientWidth
      if (this.#plot !== undefined && w > 0 && Math.abs(this.#plot.width - w) > 2) this.#plot.setSize({ width: w, height: 180 })
    })
    this.#resize.observe(this.#plotBox)
    this.#offTheme = onThemeChange(() => { this.#rebuild() })
  }

  /** Sets which series the chart shows (keeps points of series it already had). */
  setSeries (series: ChartSeries[]): void {
    this.#series = series
    for (const k of [...this.#points.keys()]) if (!series.some(s => s.key === k)) this.#points.delete(k)
    for (const s of series) if (!this.#points.has(s.key)) this.#points.set(s.key, [])
    this.#rebuild()
  }

  get seriesKeys (): string[] { return this.#series.map(s => s.key) }

  setWindow (ms: number): void { this.#windowMs = ms }

  /** Replaces a series' points (history load). */
  setPoints (key: string, points: Array<[number, number]>): void {
    if (!this.#points.has(key)) return
    this.#points.set(key, points.slice().sort((a, b) => a[0] - b[0]))
  }

  /** Appends a live point (ignored when older than the last one). */
  append (key: string, atMs: number, value: number): boolean {
    const pts = this.#points.get(key)
    if (pts === undefined) return false
    const last = pts[pts.length - 1]
    if (last !== undefined && atMs <= last[0]) return false
    pts.push([atMs, value])
    return true
  }

  /** Redraws from the held points, dropping those older than the window. */
  render (nowMs = Date.now()): void {
    this.#endMs = nowMs
    const from = nowMs - this.#windowMs
    for (const [k, pts] of this.#points) {
      let cut = 0
      while (cut < pts.length && pts[cut][0] < from) cut++
      if (cut > 0) this.#points.set(k, pts.slice(cut))
    }
    const tables: uPlot.AlignedData[] = this.#series.map(s => {
      const pts = this.#points.get(s.key) ?? []
      return [pts.map(p => p[0]), pts.map(p => p[1])] as uPlot.AlignedData
    })
    const data = tables.length === 0 ? [[]] as unknown as uPlot.AlignedData : uPlot.join(tables)
    const first = this.#points.get(this.#series[0]?.key ?? '') ?? []
    this.el.dataset.points = String(first.length)
    const lastPt = first[first.length - 1]
    this.el.dataset.lastAt = lastPt === undefined ? '' : String(lastPt[0])
    this.el.dataset.lastValue = lastPt === undefined ? '' : String(lastPt[1])
    setText(this.#latest, this.#series.slice(0, 3).map(s => {
      const p = this.#points.get(s.key) ?? []
      const v = p[p.length - 1]?.[1]
      return v === undefined ? '' : `${this.#series.length > 1 ? s.label + ' ' : ''}${formatValue(v, s.unit)}`
    }).filter(x => x !== '').join(' · '))
    if (this.#plot === undefined) this.#rebuild(data)
    else {
      this.#plot.setData(data, false)
      this.#plot.setScale('x', { min: from, max: nowMs })
    }
  }

  #rebuild (data?: uPlot.AlignedData): void {
    this.#plot?.destroy()
    this.#plot = undefined
    if (this.#series.length === 0) return
    const fg = cssVar('--muted') || '#888'
    const grid = cssVar('--grid') || 'rgba(128,128,128,.2)'
    const unit = this.#unit
    const opts: uPlot.Options = {
      width: Math.max(200, this.#plotBox.clientWidth || 400),
      height: 180,
      ms: 1,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true, live: true },
      scales: {
        x: { time: true, range: () => [this.#endMs - this.#windowMs, this.#endMs] },
        y: { range: (_u, min, max) => unit === 'percent' ? [0, Math.max(100, max ?? 100)] : [Math.min(0, min ?? 0), this.#max ?? ((max ?? 1) * 1.1 || 1)] }
      },
      axes: [
        { stroke: fg, space: 80, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (u, splits) => axisTimes(splits, (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0)) },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 64, values: (_u, splits) => splits.map(v => formatValue(v, unit)) }
      ],
      series: [
        { value: (_u, v) => v == null ? '' : new Intl.DateTimeFormat(lang(), { dateStyle: 'short', timeStyle: 'medium' }).format(v) },
        ...this.#series.map((s, i) => ({
          label: s.label,
          stroke: cssVar(PALETTE[i % PALETTE.length]) || '#1f6feb',
          width: 2,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => v == null ? '—' : formatValue(v, s.unit)
        }))
      ]
    }
    this.#plot = new uPlot(opts, data ?? [[], ...this.#series.map(() => [])] as unknown as uPlot.AlignedData, this.#plotBox)
    if (data === undefined) this.render()
  }

  destroy (): void {
    this.#resize.disconnect()
    this.#offTheme()
    this.#plot?.destroy()
  }
}
