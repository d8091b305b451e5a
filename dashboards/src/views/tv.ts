/**
 * TV mode, for a screen on the helpdesk wall: big status counts, the worst open
 * incidents and the machines needing attention, rotating every 15 s, kept
 * current from the live socket (refreshed at most every 3 s).
 */
import { api } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { formatClock, formatRelative } from '../format.js'
import { t } from '../i18n/index.js'
import { live } from '../live.js'
import { navigate } from '../router.js'
import { statusBadge, severityBadge } from '../components/status.js'
import { STATUSES, type Incident, type MachineStatus, type MachineSummary } from '../types.js'
import type { View } from './view.js'

const ROTATE_MS = 15_000
const REFRESH_MS = 3000
const SEV_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 }

export function tvView (): View {
  const clock = h('span', { class: 'tv-clock' })
  const tiles = h('div', { class: 'tv-tiles' })
  const incidentsPanel = h('section', { class: 'tv-panel', dataset: { panel: 'incidents' } })
  const machinesPanel = h('section', { class: 'tv-panel', dataset: { panel: 'machines' } })
  const el = h('div', { class: 'page tv', 'data-view': 'tv' },
    h('div', { class: 'toolbar' }, h('h1', null, t('tv.title')), h('div', { class: 'grow' }), clock,
      h('button', { class: 'ghost', onclick: () => { navigate('/') }, title: t('tv.exit'), 'aria-label': t('tv.exit') }, '✕')),
    tiles, h('div', { class: 'tv-panels' }, incidentsPanel, machinesPanel))
  let rotation = 0
  let refreshTimer: ReturnType<typeof setTimeout> | undefined

  function renderTiles (counts: Partial<Record<MachineStatus, number>>): void {
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0)
    replace(tiles,
      h('div', { class: 'tile tile-total' }, h('div', { class: 'tile-n' }, String(total)), h('div', { class: 'tile-label' }, t('tv.machines'))),
      ...STATUSES.filter(s => s !== 'offline' || (counts.offline ?? 0) > 0).map(s => h('div', { class: `tile status-${s}${(counts[s] ?? 0) > 0 && (s === 'critical' || s === 'silent-unexpected') ? ' tile-alert' : ''}`, dataset: { status: s } },
        h('div', { class: 'tile-n' }, String(counts[s] ?? 0)), h('div', { class: 'tile-label' }, t(`status.${s}`)))))
  }

  function renderIncidents (items: Incident[] | undefined): void {
    const list = (items ?? []).slice().sort((a, b) => (SEV_RANK[a.severity] ?? 3) - (SEV_RANK[b.severity] ?? 3) || a.openedAt.localeCompare(b.openedAt)).slice(0, 8)
    replace(incidentsPanel, h('h2', null, t('tv.worstIncidents')),
      items === undefined ? h('p', { class: 'muted' }, t('incidents.unavailable'))
        : list.length === 0 ? h('p', { class: 'tv-clear' }, '✔ ', t('tv.allGood'))
          : h('ul', { class: 'tv-list' }, ...list.map(i => h('li', { class: `sev-border-${i.severity}` }, severityBadge(i.severity), h('span', { class: 'tv-item-title' }, i.title), h('span', { class: 'muted' }, `${i.hostname} · ${formatRelative(i.openedAt)}`)))))
  }

  function renderMachines (items: MachineSummary[]): void {
    const bad = items.filter(m => m.status !== 'healthy' && m.status !== 'offline-expected').slice(0, 8)
    replace(machinesPanel, h('h2', null, t('tv.worstMachines')),
      bad.length === 0 ? h('p', { class: 'tv-clear' }, '✔ ', t('tv.allGood'))
        : h('ul', { class: 'tv-list' }, ...bad.map(m => h('li', null, statusBadge(m.status, true), h('span', { class: 'tv-item-title' }, m.hostname), h('span', { class: 'muted' }, m.worst?.title ?? formatRelative(m.lastSeenAt))))))
  }

  async function load (): Promise<void> {
    refreshTimer = undefined
    const [machines, incidents] = await Promise.all([
      api.machines({ sort: 'worst', limit: 20 }).catch(() => undefined),
      Promise.all(['open', 'regressed', 'acknowledged'].map(async s => (await api.incidents({ state: s, limit: 50 })).items)).then(r => r.flat(), () => undefined)
    ])
    if (machines !== undefined) { renderTiles(machines.counts); renderMachines(machines.items) }
    renderIncidents(incidents)
  }

  function rotate (): void {
    rotation++
    incidentsPanel.classList.toggle('tv-focus', rotation % 2 === 0)
    machinesPanel.classList.toggle('tv-focus', rotation % 2 === 1)
  }

  const tick = (): void => { setText(clock, formatClock(Date.now())) }
  tick()
  const clockTimer = setInterval(tick, 10_000)
  const rotateTimer = setInterval(rotate, ROTATE_MS)
  const offLive = live.subscribe((e) => { if (e.type === 'machine' || e.type === 'incident') refreshTimer ??= setTimeout(() => { void load() }, REFRESH_MS) })
  const offResync = live.onResync(() => { void load() })
  document.body.classList.add('tv-mode')
  rotation = -1
  rotate()
  void load()

  return {
    el,
    destroy: () => {
      document.body.classList.remove('tv-mode')
      clearInterval(clockTimer); clearInterval(rotateTimer); offLive(); offResync()
      if (refreshTimer !== undefined) clearTimeout(refreshTimer)
    },
    onKey: (e) => { if (e.key === 'Escape') { navigate('/'); return true } return false }
  }
}
