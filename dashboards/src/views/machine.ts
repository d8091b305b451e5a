/**
 * One machine: status, live charts over a chosen range, hardware facts, probes
 * that cannot measure here and why, disk and battery health with forecasts,
 * installed software with its change history, and the machine's incidents.
 */
import { api, ApiError } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { formatBytes, formatDateTime, formatDuration, formatNumber, formatPct, formatRelative } from '../format.js'
import { t } from '../i18n/index.js'
import { live } from '../live.js'
import { currentRoute, href, replaceQuery } from '../router.js'
import { scheduleRender } from '../scheduler.js'
import { gauge, statusBadge } from '../components/status.js'
import { incidentCard } from '../components/incident-card.js'
import { unavailableText } from '../components/unavailable.js'
import { CHART_PROBES, MachineCharts, RANGES } from './machine-charts.js'
import type { Incident, InstalledApp, InventoryChange, MachineDetail, MetricValue, Unavailable } from '../types.js'
import type { View } from './view.js'

const OPEN_STATES = new Set(['open', 'acknowledged', 'regressed'])

export function machineView (id: string): View {
  const range = RANGES.find(r => r.id === currentRoute().query.get('range')) ?? RANGES[1]
  const charts = new MachineCharts(id, range)
  let detail: MachineDetail | undefined
  let latest: MetricValue[] = []
  let unavailable: Unavailable[] = []
  let incidents: Incident[] | undefined
  let apps: InstalledApp[] = []
  let changes: InventoryChange[] = []
  let destroyed = false

  const title = h('h1', null, id)
  const statusBox = h('span')
  const onlineBox = h('span', { class: 'muted' })
  const worstBox = h('div', { class: 'worst' })
  const rangeBar = h('div', { class: 'segmented', role: 'group', 'aria-label': t('machine.range') })
  const chartGrid = h('div', { class: 'chart-grid' })
  const facts = h('dl', { class: 'facts' })
  const health = h('div', { class: 'health' })
  const unavailBox = h('ul', { class: 'unavailable' })
  const appFilter = h('input', { type: 'search', class: 'search', placeholder: t('machine.softwareFilter'), 'aria-label': t('machine.softwareFilter') })
  const appsCount = h('span', { class: 'muted' })
  const appsBody = h('tbody')
  const changesList = h('ul', { class: 'changes' })
  const incidentsBox = h('div', { class: 'incident-list' })
  const error = h('p', { class: 'error', hidden: true, role: 'alert' })

  const el = h('div', { class: 'page machine', 'data-view': 'machine', dataset: { machine: id } },
    h('a', { class: 'back', href: '#/' }, t('machine.back')),
    h('div', { class: 'toolbar' }, title, statusBox, onlineBox, h('div', { class: 'grow' }), rangeBar),
    worstBox, error,
    h('div', { class: 'machine-grid' },
      h('div', { class: 'machine-main' },
        h('h2', { class: 'sr-only' }, t('machine.charts')),
        chartGrid,
        h('section', { class: 'card' }, h('h2', null, t('machine.incidents')), incidentsBox),
        h('section', { class: 'card software' },
          h('div', { class: 'toolbar' }, h('h2', null, t('machine.software')), appsCount, h('div', { class: 'grow' }), appFilter),
          h('div', { class: 'software-cols' },
            h('div', { class: 'apps-scroll' }, h('table', { class: 'apps' }, appsBody)),
            h('div', null, h('h3', null, t('machine.changes')), changesList)))),
      h('aside', { class: 'machine-side' },
        h('section', { class: 'card' }, h('h2', null, t('machine.health')), health),
        h('section', { class: 'card' }, h('h2', null, t('machine.unavailable')), unavailBox),
        h('section', { class: 'card' }, h('h2', null, t('machine.hardware')), facts))))

  for (const r of RANGES) {
    rangeBar.appendChild(h('button', {
      'aria-pressed': String(r.id === range.id),
      dataset: { range: r.id },
      onclick: () => {
        for (const b of rangeBar.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.range === r.id))
        replaceQuery({ range: r.id === '1h' ? undefined : r.id })
        void charts.setRange(r)
      }
    }, r.id))
  }

  function renderHeader (): void {
    if (detail === undefined) return
    setText(title, detail.hostname)
    document.title = `${detail.hostname} — Vigie`
    replace(statusBox, statusBadge(detail.status))
    setText(onlineBox, `${detail.online ? t('machine.online') : t('machine.offline')}${detail.streaming ? ' · ' + t('machine.streaming') : ''} · ${t('machine.lastReport', { rel: formatRelative(detail.lastSeenAt) })}`)
    replace(worstBox, detail.worst === undefined ? null : h('a', { class: `worst-link sev-text-${detail.worst.severity}`, href: detail.worst.incidentId !== undefined ? href('incidents', detail.worst.incidentId) : '#/incidents' }, detail.worst.title))
  }

  function renderFacts (): void {
    if (detail === undefined) return
    const f = detail.host
    const rows: Array<[string, string | undefined]> = [
      [t('fact.os'), `${f.os} ${f.osVersion}`],
      [t('fact.kernel'), f.kernel],
      [t('fact.arch'), f.arch],
      [t('fact.manufacturer'), f.manufacturer],
      [t('fact.model'), f.model],
      [t('fact.serial'), f.serial],
      [t('fact.cpu'), f.cpuModel],
      [t('fact.cores'), f.cpuCores === undefined ? undefined : formatNumber(f.cpuCores)],
      [t('fact.memory'), f.memTotalBytes === undefined ? undefined : formatBytes(f.memTotalBytes)],
      [t('fact.user'), f.user],
      [t('fact.boot'), f.bootTime === undefined ? undefined : `${formatDateTime(f.bootTime)} (${formatRelative(f.bootTime)})`],
      [t('fact.agent'), f.agentVersion],
      [t('fact.firstSeen'), formatDateTime(detail.firstSeenAt)],
      [t('fact.skew'), detail.clockSkewMs === 0 ? undefined : formatDuration(detail.clockSkewMs)],
      [t('fact.dropped'), detail.droppedReports === 0 ? undefined : formatNumber(detail.droppedReports)]
    ]
    replace(facts, ...rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '')]))
  }

  function renderHealth (): void {
    const disks = latest.filter(m => m.name === 'fs.used_pct').sort((a, b) => b.value - a.value)
    const battery = latest.find(m => m.name === 'battery.health_pct')
    const forecasts = (incidents ?? []).filter(i => i.impactAt !== undefined && OPEN_STATES.has(i.state))
    replace(health,
      ...disks.map(d => h('div', { class: 'health-row' }, h('span', null, t('machine.diskFill', { mount: d.labels?.mount ?? '?', pct: formatPct(d.value) })), gauge(d.value, formatPct(d.value), 85, 95))),
      battery === undefined ? null : h('div', { class: 'health-row' }, h('span', null, t('machine.batteryHealth', { pct: formatPct(battery.value) })), gauge(battery.value, formatPct(battery.value), 80, 60, true)),
      forecasts.length === 0
        ? h('p', { class: 'muted' }, t('machine.noForecast'))
        : h('ul', { class: 'forecasts' }, ...forecasts.map(i => h('li', { class: `sev-text-${i.severity}`, dataset: { forecast: i.id } },
          h('a', { href: href('incidents', i.id) }, t('machine.forecast', { what: i.title, when: `${formatRelative(i.impactAt)} — ${formatDateTime(i.impactAt)}` })))))
    )
  }

  function renderUnavailable (): void {
    replace(unavailBox, ...(unavailable.length === 0 ? [h('li', { class: 'muted all-measured' }, t('machine.allMeasured'))] : unavailable.map(u => h('li', { dataset: { probe: u.probe } }, unavailableText(u)))))
  }

  /** Shows charts that have data; a chart whose probe is unavailable says why instead. */
  function layoutCharts (used: Set<string>): void {
    const nodes: HTMLElement[] = []
    for (const { id: chartId, probe } of CHART_PROBES) {
      const chart = charts.charts.get(chartId)
      if (chart === undefined) continue
      if (used.has(chartId)) { nodes.push(chart.el); continue }
      const u = unavailable.find(x => x.probe === probe)
      if (u !== undefined) nodes.push(h('section', { class: 'card chart chart-unavailable', dataset: { chart: chartId, unavailable: u.probe } }, h('h3', null, chart.el.querySelector('h3')?.textContent ?? ''), h('p', { class: 'muted big' }, unavailableText(u))))
    }
    replace(chartGrid, ...nodes)
  }

  function renderApps (): void {
    const needle = appFilter.value.trim().toLowerCase()
    const shown = needle === '' ? apps : apps.filter(a => a.name.toLowerCase().includes(needle) || a.version.toLowerCase().includes(needle))
    setText(appsCount, t('machine.apps', { n: apps.length }))
    replace(appsBody, ...shown.slice(0, 500).map(a => h('tr', null, h('td', null, a.name), h('td', { class: 'mono' }, a.version), h('td', { class: 'muted' }, a.source ?? ''))))
    replace(changesList, ...(changes.length === 0
      ? [h('li', { class: 'muted' }, t('machine.noChanges'))]
      : changes.slice(0, 100).map(c => h('li', null,
        h('span', { class: 'muted', title: formatDateTime(c.atMs) }, formatRelative(c.atMs)), ' ',
        h('strong', null, c.name), ' ',
        c.from === null ? t('change.installed', { to: c.to ?? '' }) : c.to === null ? t('change.removed', { from: c.from }) : t('change.updated', { from: c.from, to: c.to })))))
  }
  appFilter.addEventListener('input', renderApps)

  function renderIncidents (): void {
    if (incidents === undefined) { replace(incidentsBox, h('p', { class: 'muted' }, t('incidents.unavailable'))); return }
    const sorted = incidents.slice().sort((a, b) => Number(OPEN_STATES.has(b.state)) - Number(OPEN_STATES.has(a.state)) || b.updatedAt.localeCompare(a.updatedAt))
    replace(incidentsBox, ...(sorted.length === 0 ? [h('p', { class: 'muted' }, t('machine.noIncidents'))] : sorted.slice(0, 20).map(i => incidentCard(i, { showMachine: false }))))
    renderHealth()
  }

  async function loadDetail (): Promise<void> {
    try {
      const [d, s] = await Promise.all([api.machine(id), api.series(id)])
      if (destroyed) return
      detail = d
      latest = d.latest
      unavailable = d.unavailable
      renderHeader(); renderFacts(); renderHealth(); renderUnavailable()
      layoutCharts(charts.setSeries(s.series))
      await charts.loadHistory()
    } catch (err) {
      if (destroyed) return
      error.hidden = false
      setText(error, err instanceof ApiError && err.status === 404 ? t('machine.notFound') : t('error.generic', { msg: (err as Error).message }))
    }
  }

  async function loadIncidents (): Promise<void> {
    try {
      const res = await api.incidents({ machineId: id, limit: 50 })
      incidents = res.items
    } catch {
      incidents = undefined
    }
    if (!destroyed) renderIncidents()
  }

  async function loadInventory (): Promise<void> {
    try {
      const inv = await api.inventory(id)
      apps = inv.apps.slice().sort((a, b) => a.name.localeCompare(b.name))
      changes = inv.changes.slice().sort((a, b) => b.atMs - a.atMs)
      if (!destroyed) renderApps()
    } catch { /* the page still shows everything else */ }
  }

  let seriesRefresh: ReturnType<typeof setTimeout> | undefined
  const unwatch = live.watch(id)
  const offLive = live.subscribe((e) => {
    if (e.type === 'report' && e.machineId === id) {
      latest = e.metrics
      unavailable = e.unavailable
      if (charts.addReport(e.atMs, e.metrics)) scheduleRender(`machine.${id}.charts`, () => { charts.render() })
      if (charts.hasUnknownSeries(e.metrics)) seriesRefresh ??= setTimeout(() => { seriesRefresh = undefined; void loadDetail() }, 1000)
      scheduleRender(`machine.${id}.health`, () => { renderHealth(); renderUnavailable() })
    } else if (e.type === 'machine' && e.machine.id === id && detail !== undefined) {
      detail = { ...detail, status: e.machine.status, worst: e.machine.worst, lastSeenAt: e.machine.lastSeenAt, online: true }
      scheduleRender(`machine.${id}.header`, renderHeader)
    } else if (e.type === 'incident' && e.incident.machineId === id) {
      const list = incidents ?? []
      const at = list.findIndex(i => i.id === e.incident.id)
      if (at === -1) list.unshift(e.incident); else list[at] = { ...list[at], ...e.incident }
      incidents = list
      scheduleRender(`machine.${id}.incidents`, renderIncidents)
    }
  })
  const offResync = live.onResync(() => { void loadDetail(); void loadIncidents() })
  const ticker = setInterval(() => { scheduleRender(`machine.${id}.header`, renderHeader); scheduleRender(`machine.${id}.charts`, () => { charts.render() }) }, 15_000)

  void loadDetail()
  void loadIncidents()
  void loadInventory()

  return {
    el,
    destroy: () => {
      destroyed = true
      unwatch(); offLive(); offResync(); clearInterval(ticker)
      if (seriesRefresh !== undefined) clearTimeout(seriesRefresh)
      charts.destroy()
    },
    focusSearch: () => { appFilter.focus() },
    onKey: (e) => {
      if (e.key === 'Escape') { location.hash = '#/'; return true }
      const i = Number(e.key)
      if (e.key >= '1' && e.key <= '6' && RANGES[i - 1] !== undefined) {
        (rangeBar.querySelector(`[data-range="${RANGES[i - 1].id}"]`) as HTMLButtonElement | null)?.click()
        return true
      }
      return false
    }
  }
}
