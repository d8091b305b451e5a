/**
 * Incident board: open, acknowledged, regressed and resolved columns, filtered by
 * severity and text; the selected incident opens in a side panel with its
 * evidence and actions. Incident events on the live socket move cards between
 * columns without reloading.
 */
import { api, ApiError } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { t, type MessageKey } from '../i18n/index.js'
import { live } from '../live.js'
import { currentRoute, navigate, replaceQuery } from '../router.js'
import { scheduleRender } from '../scheduler.js'
import { incidentCard } from '../components/incident-card.js'
import type { Incident, IncidentState } from '../types.js'
import { incidentPanel, type IncidentPanel } from './incident-detail.js'
import type { View } from './view.js'

const COLUMNS: Array<{ id: string, title: MessageKey, states: IncidentState[] }> = [
  { id: 'open', title: 'incidents.col.open', states: ['open'] },
  { id: 'acknowledged', title: 'incidents.col.acknowledged', states: ['acknowledged'] },
  { id: 'regressed', title: 'incidents.col.regressed', states: ['regressed'] },
  { id: 'resolved', title: 'incidents.col.resolved', states: ['resolved', 'auto-resolved', 'verified'] }
]
const PER_STATE = 100
const SEV_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 }

export function incidentsView (selectedId?: string): View {
  const route = currentRoute()
  const filter = { q: route.query.get('q') ?? '', severity: route.query.get('severity') ?? '' }
  const byId = new Map<string, Incident>()
  const totals = new Map<string, number>()
  let unavailable = false
  let panel: IncidentPanel | undefined
  let selected = selectedId
  let gen = 0

  const search = h('input', { type: 'search', class: 'search', placeholder: t('incidents.search'), 'aria-label': t('incidents.search'), value: filter.q })
  const severity = h('select', { 'aria-label': t('incidents.severity') },
    h('option', { value: '' }, t('incidents.allSeverities')),
    ...['critical', 'warning', 'info'].map(s => h('option', { value: s, selected: filter.severity === s }, t(`severity.${s}` as MessageKey))))
  const columns = new Map<string, { list: HTMLElement, count: HTMLElement }>()
  const board = h('div', { class: 'board' }, ...COLUMNS.map(c => {
    const list = h('div', { class: 'column-list' })
    const count = h('span', { class: 'chip-n' })
    columns.set(c.id, { list, count })
    return h('section', { class: `column column-${c.id}`, dataset: { column: c.id }, 'aria-label': t(c.title) }, h('h2', null, t(c.title), ' ', count), list)
  }))
  const message = h('p', { class: 'empty', hidden: true })
  const panelBox = h('div', { class: 'panel-box' })
  const el = h('div', { class: 'page incidents', 'data-view': 'incidents' },
    h('div', { class: 'toolbar' }, h('h1', null, t('incidents.title')), h('div', { class: 'grow' }), search, severity),
    message,
    h('div', { class: 'board-wrap' }, board, panelBox))

  function columnOf (inc: Incident): string | undefined {
    return COLUMNS.find(c => c.states.includes(inc.state))?.id
  }

  function matches (inc: Incident): boolean {
    if (filter.severity !== '' && inc.severity !== filter.severity) return false
    if (filter.q === '') return true
    const q = filter.q.toLowerCase()
    return [inc.title, inc.hostname, inc.key, inc.kind].some(f => f?.toLowerCase().includes(q))
  }

  function renderBoard (): void {
    message.hidden = !unavailable
    setText(message, unavailable ? t('incidents.unavailable') : '')
    for (const c of COLUMNS) {
      const col = columns.get(c.id)
      if (col === undefined) continue
      const items = [...byId.values()].filter(i => columnOf(i) === c.id && matches(i))
      items.sort(c.id === 'resolved'
        ? (a, b) => (b.resolvedAt ?? b.updatedAt).localeCompare(a.resolvedAt ?? a.updatedAt)
        : (a, b) => (SEV_RANK[a.severity] ?? 3) - (SEV_RANK[b.severity] ?? 3) || b.updatedAt.localeCompare(a.updatedAt))
      const server = c.states.reduce((n, s) => n + (totals.get(s) ?? 0), 0)
      setText(col.count, String(Math.max(items.length, server)))
      replace(col.list, ...(items.length === 0 ? [h('p', { class: 'muted' }, t('incidents.empty'))] : items.map(i => incidentCard(i, { selected: i.id === selected }))))
    }
  }

  async function load (): Promise<void> {
    const my = ++gen
    try {
      const states = COLUMNS.flatMap(c => c.states)
      const results = await Promise.all(states.map(async s => await api.incidents({ state: s, severity: filter.severity || undefined, q: filter.q || undefined, limit: PER_STATE })))
      if (my !== gen) return
      byId.clear()
      states.forEach((s, i) => { totals.set(s, results[i].total); for (const inc of results[i].items) byId.set(inc.id, inc) })
      unavailable = false
    } catch (err) {
      if (my !== gen) return
      unavailable = err instanceof ApiError && err.status === 404
      if (!unavailable) { message.hidden = false; setText(message, t('error.generic', { msg: (err as Error).message })); return }
    }
    renderBoard()
  }

  function openPanel (id: string | undefined): void {
    if (panel?.id === id) return
    panel?.destroy()
    panel = undefined
    selected = id
    replace(panelBox)
    el.classList.toggle('with-panel', id !== undefined)
    if (id !== undefined) {
      panel = incidentPanel(id, {
        onClose: () => { navigate('/incidents' + (location.hash.includes('?') ? '?' + location.hash.split('?')[1] : '')) },
        onChanged: (inc) => { byId.set(inc.id, { ...byId.get(inc.id), ...inc }); scheduleRender('incidents.board', renderBoard) }
      })
      panelBox.appendChild(panel.el)
    }
    renderBoard()
  }

  let typing: ReturnType<typeof setTimeout> | undefined
  search.addEventListener('input', () => {
    if (typing !== undefined) clearTimeout(typing)
    typing = setTimeout(() => { filter.q = search.value.trim(); replaceQuery({ q: filter.q }); void load() }, 200)
  })
  severity.addEventListener('change', () => { filter.severity = severity.value; replaceQuery({ severity: filter.severity }); void load() })

  const offLive = live.subscribe((e) => {
    if (e.type !== 'incident') return
    const prev = byId.get(e.incident.id)
    byId.set(e.incident.id, { ...prev, ...e.incident })
    scheduleRender('incidents.board', renderBoard)
    if (panel?.id === e.incident.id) { const p = panel; scheduleRender('incidents.panel', () => { void p.reload() }) }
  })
  const offResync = live.onResync(() => { void load(); void panel?.reload() })
  const ticker = setInterval(() => { scheduleRender('incidents.board', renderBoard) }, 30_000)

  renderBoard()
  void load()
  openPanel(selectedId)

  function cards (): HTMLElement[] { return [...board.querySelectorAll<HTMLElement>('.incident-card')] }

  return {
    el,
    destroy: () => { offLive(); offResync(); clearInterval(ticker); panel?.destroy(); if (typing !== undefined) clearTimeout(typing) },
    focusSearch: () => { search.focus(); search.select() },
    onKey: (e) => {
      if (e.key === 'Escape' && panel !== undefined) { navigate('/incidents'); return true }
      if (e.key === 'j' || e.key === 'k') {
        const all = cards()
        if (all.length === 0) return true
        const at = all.findIndex(c => c.classList.contains('kbd'))
        const next = at === -1 ? 0 : Math.max(0, Math.min(all.length - 1, at + (e.key === 'j' ? 1 : -1)))
        all.forEach(c => { c.classList.remove('kbd') })
        all[next].classList.add('kbd')
        all[next].focus()
        return true
      }
      return false
    },
    // The board stays mounted while the route's incident id changes.
    ...{ select: openPanel }
  } as View & { select: (id: string | undefined) => void }
}
