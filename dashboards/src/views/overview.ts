/**
 * Fleet overview: every machine with its status, worst open incident and key
 * gauges; counts by status (clickable filters); search by hostname, user, model,
 * OS (server `q`) and installed software (`software=name@version`); sort.
 * Pages of up to 1000 rows are fetched as the list scrolls; only the rows in
 * view are built. Live machine events patch rows in place.
 */
import { api, type MachineQuery } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { formatPct, formatRelative, formatTemp } from '../format.js'
import { t } from '../i18n/index.js'
import { live } from '../live.js'
import { currentRoute, href, navigate, replaceQuery } from '../router.js'
import { scheduleRender } from '../scheduler.js'
import { gauge, statusBadge } from '../components/status.js'
import { VirtualList } from '../components/virtual-list.js'
import { STATUSES, type MachineStatus, type MachineSummary } from '../types.js'
import type { View } from './view.js'

/** Rows per request (the API's maximum). */
export const PAGE_SIZE = 1000
const ROW_HEIGHT = 44
const RESORT_DELAY_MS = 5000

export function overviewView (): View {
  const route = currentRoute()
  const filter: MachineQuery = {
    q: route.query.get('q') ?? '',
    software: route.query.get('software') ?? '',
    status: route.query.get('status') ?? '',
    sort: route.query.get('sort') ?? 'worst'
  }
  let total = 0
  let fleetTotal = 0
  let counts: Partial<Record<MachineStatus, number>> = {}
  let rows: Array<MachineSummary | undefined> = []
  const indexById = new Map<string, number>()
  /** offsets of the windows fetched so far (for refresh) and the index ranges being fetched */
  const loaded = new Set<number>()
  const inflight: Array<[number, number]> = []
  let generation = 0
  let firstLoadDone = false
  let refreshTimer: ReturnType<typeof setTimeout> | undefined
  let rangeTimer: ReturnType<typeof setTimeout> | undefined

  const countText = h('span', { class: 'muted count', 'aria-live': 'polite' })
  const chips = h('div', { class: 'chips', role: 'toolbar', 'aria-label': t('col.status') })
  const search = h('input', { type: 'search', class: 'search', placeholder: t('overview.search'), 'aria-label': t('overview.searchLabel'), value: filter.q, 'data-testid': 'search' })
  const software = h('input', { type: 'search', class: 'search software', placeholder: t('overview.software'), 'aria-label': t('overview.softwareLabel'), value: filter.software, 'data-testid': 'software' })
  const sort = h('select', { 'aria-label': t('overview.sort') },
    h('option', { value: 'worst', selected: filter.sort === 'worst' }, t('overview.sortWorst')),
    h('option', { value: 'hostname', selected: filter.sort === 'hostname' }, t('overview.sortHostname')),
    h('option', { value: 'lastSeen', selected: filter.sort === 'lastSeen' }, t('overview.sortLastSeen')))
  const empty = h('p', { class: 'empty', hidden: true })
  const error = h('p', { class: 'error', hidden: true, role: 'alert' })

  const list = new VirtualList<MachineSummary>({
    rowHeight: ROW_HEIGHT,
    label: t('overview.title'),
    itemAt: (i) => rows[i],
    renderRow: renderRow,
    onRange: (first, last) => {
      if (rangeTimer !== undefined) clearTimeout(rangeTimer)
      // Let a fast scroll settle, then fetch one window of up to PAGE_SIZE rows around what is in view
      // (one request, not two aligned pages: the collector answers requests one at a time).
      rangeTimer = setTimeout(() => {
        let missing = -1
        for (let i = first; i <= last && missing === -1; i++) if (rows[i] === undefined && !inflight.some(([a, b]) => i >= a && i < b)) missing = i
        if (missing === -1) return
        void loadWindow(Math.max(0, Math.min(missing, first) - Math.floor(PAGE_SIZE / 5)), generation)
      }, 60)
    },
    onOpen: (_i, m) => { if (m !== undefined) navigate(`/machines/${encodeURIComponent(m.id)}`) }
  })

  const head = h('div', { class: 'vrow vhead', role: 'row' },
    ...['status', 'hostname', 'user', 'model', 'os', 'worst', 'cpu', 'mem', 'disk', 'temp', 'battery', 'lastSeen'].map(c =>
      h('span', { class: `cell c-${c}`, role: 'columnheader' }, t(`col.${c}` as 'col.status'))))

  const el = h('div', { class: 'page overview', 'data-view': 'overview' },
    h('div', { class: 'toolbar' },
      h('h1', null, t('overview.title')), countText,
      h('div', { class: 'grow' }),
      search, software, sort),
    chips, error,
    h('div', { class: 'table' }, head, list.el, empty))

  function renderRow (row: HTMLElement, m: MachineSummary | undefined): void {
    if (m === undefined) {
      row.removeAttribute('href')
      row.dataset.machine = ''
      replace(row, h('span', { class: 'cell placeholder' }, t('overview.loading')))
      return
    }
    row.setAttribute('href', href('machines', m.id))
    row.dataset.machine = m.id
    row.dataset.hostname = m.hostname
    replace(row,
      h('span', { class: 'cell c-status', role: 'gridcell' }, statusBadge(m.status)),
      h('span', { class: 'cell c-hostname', role: 'gridcell' }, h('strong', null, m.hostname)),
      h('span', { class: 'cell c-user', role: 'gridcell' }, m.user ?? ''),
      h('span', { class: 'cell c-model', role: 'gridcell' }, m.model ?? ''),
      h('span', { class: 'cell c-os', role: 'gridcell' }, `${m.os} ${m.osVersion}`),
      h('span', { class: `cell c-worst sev-text-${m.worst?.severity ?? 'none'}`, role: 'gridcell', title: m.worst?.title ?? '' }, m.worst?.title ?? ''),
      h('span', { class: 'cell c-cpu', role: 'gridcell' }, gauge(m.cpuPct, formatPct(m.cpuPct))),
      h('span', { class: 'cell c-mem', role: 'gridcell' }, gauge(m.memPct, formatPct(m.memPct))),
      h('span', { class: 'cell c-disk', role: 'gridcell' }, gauge(m.diskPct, formatPct(m.diskPct), 85, 95)),
      h('span', { class: 'cell c-temp', role: 'gridcell' }, gauge(m.tempC, formatTemp(m.tempC), 80, 90)),
      h('span', { class: 'cell c-battery', role: 'gridcell' }, gauge(m.batteryHealthPct, formatPct(m.batteryHealthPct), 80, 60, true)),
      h('span', { class: 'cell c-lastSeen muted', role: 'gridcell', title: m.lastSeenAt }, formatRelative(m.lastSeenAt)))
  }

  function renderChips (): void {
    const all = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0)
    const chip = (status: string, label: string, n: number): HTMLElement =>
      h('button', {
        class: `chip ${status === '' ? '' : 'status-' + status}`,
        'aria-pressed': String((filter.status ?? '') === status),
        dataset: { filter: status === '' ? 'all' : status },
        onclick: () => { filter.status = (filter.status === status ? '' : status); refilter() }
      }, h('span', { class: 'chip-n' }, String(n)), ' ', label)
    replace(chips, chip('', t('status.all'), all), ...STATUSES.map(s => chip(s, t(`status.${s}`), counts[s] ?? 0)))
  }

  function renderCount (): void {
    const filtered = (filter.q ?? '') !== '' || (filter.software ?? '') !== '' || (filter.status ?? '') !== ''
    setText(countText, filtered ? t('overview.countFiltered', { n: total, total: fleetTotal }) : t('overview.count', { n: total }))
    empty.hidden = !firstLoadDone || total > 0
    setText(empty, fleetTotal === 0 && !filtered ? t('overview.emptyFleet') : t('overview.empty'))
  }

  async function loadWindow (offset: number, gen: number): Promise<void> {
    const span: [number, number] = [offset, offset + PAGE_SIZE]
    inflight.push(span)
    try {
      const res = await api.machines({ ...filter, limit: PAGE_SIZE, offset })
      if (gen !== generation) return
      error.hidden = true
      if (res.total !== total) { total = res.total; rows.length = total; list.setCount(total) }
      counts = res.counts
      if ((filter.q ?? '') === '' && (filter.software ?? '') === '') fleetTotal = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0)
      res.items.forEach((m, i) => {
        const at = res.offset + i
        const old = rows[at]
        if (old !== undefined && indexById.get(old.id) === at) indexById.delete(old.id)
        rows[at] = m
        indexById.set(m.id, at)
      })
      loaded.add(offset)
      firstLoadDone = true
      renderChips()
      renderCount()
      list.invalidate()
      el.dataset.loaded = String(loaded.size)
    } catch (err) {
      if (gen !== generation) return
      error.hidden = false
      setText(error, t('error.generic', { msg: (err as Error).message }))
    } finally {
      const at = inflight.indexOf(span)
      if (at !== -1) inflight.splice(at, 1)
    }
  }

  /** New filter: start over from the first page. */
  function refilter (): void {
    replaceQuery({ q: filter.q, software: filter.software, status: filter.status, sort: filter.sort === 'worst' ? undefined : filter.sort })
    generation++
    rows = []
    indexById.clear()
    loaded.clear()
    inflight.length = 0
    total = 0
    list.setCount(0)
    list.scrollToTop()
    renderChips()
    void loadWindow(0, generation)
  }

  /** Reloads the pages already shown (order may have changed); keeps the scroll position. */
  function refresh (): void {
    refreshTimer = undefined
    const offsets = loaded.size === 0 ? [0] : [...loaded]
    generation++
    loaded.clear()
    inflight.length = 0
    for (const o of offsets) void loadWindow(o, generation)
  }
  function refreshSoon (delay = RESORT_DELAY_MS): void {
    refreshTimer ??= setTimeout(refresh, delay)
  }

  let typing: ReturnType<typeof setTimeout> | undefined
  const onInput = (): void => {
    if (typing !== undefined) clearTimeout(typing)
    typing = setTimeout(() => { filter.q = search.value.trim(); filter.software = software.value.trim(); refilter() }, 200)
  }
  search.addEventListener('input', onInput)
  software.addEventListener('input', onInput)
  sort.addEventListener('change', () => { filter.sort = sort.value; refilter() })

  const offLive = live.subscribe((e) => {
    if (e.type !== 'machine') return
    const m = e.machine
    const i = indexById.get(m.id)
    if (i === undefined) {
      // A machine not in the loaded pages: new, or outside the loaded window.
      if (total > 0 && rows[total - 1] === undefined) return
      refreshSoon(1000)
      return
    }
    const old = rows[i]
    rows[i] = m
    if (old !== undefined && old.status !== m.status) {
      counts[old.status] = Math.max(0, (counts[old.status] ?? 1) - 1)
      counts[m.status] = (counts[m.status] ?? 0) + 1
      scheduleRender('overview.chips', renderChips)
      if (filter.sort === 'worst' || (filter.status ?? '') !== '') refreshSoon()
    }
    scheduleRender('overview.rows', () => { list.invalidate() })
  })
  const offResync = live.onResync(() => { refreshSoon(0) })
  // Relative "last seen" times age even without events.
  const ticker = setInterval(() => { scheduleRender('overview.rows', () => { list.invalidate() }) }, 15_000)

  renderChips()
  void loadWindow(0, generation)

  return {
    el,
    destroy: () => {
      offLive(); offResync(); clearInterval(ticker); list.destroy()
      if (refreshTimer !== undefined) clearTimeout(refreshTimer)
      if (rangeTimer !== undefined) clearTimeout(rangeTimer)
      if (typing !== undefined) clearTimeout(typing)
    },
    focusSearch: () => { search.focus(); search.select() },
    onKey: (e) => {
      if (e.key === 'Escape' && (filter.q !== '' || filter.status !== '' || filter.software !== '')) {
        search.value = ''; software.value = ''; filter.q = ''; filter.software = ''; filter.status = ''; refilter(); return true
      }
      return list.handleKey(e.key)
    }
  }
}
