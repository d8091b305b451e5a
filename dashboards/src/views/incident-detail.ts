/**
 * One incident in the board's side panel: evidence chart and values, predicted
 * impact, suspected change, suggested articles, timeline, and the actions
 * acknowledge, assign, note, resolve (optionally documenting the fix), silence, reopen.
 */
import { api, unwrapIncident } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { formatDateTime, formatRelative } from '../format.js'
import { t, type MessageKey } from '../i18n/index.js'
import { href } from '../router.js'
import { TimeChart } from '../components/chart.js'
import { severityBadge } from '../components/status.js'
import { suspectedText } from '../components/incident-card.js'
import type { Incident } from '../types.js'

const RESOLVED = new Set(['resolved', 'auto-resolved', 'verified'])
const SILENCE_CHOICES: Array<[string, number, MessageKey]> = [['1h', 3_600_000, 'duration.1h'], ['4h', 4 * 3_600_000, 'duration.4h'], ['24h', 86_400_000, 'duration.24h'], ['7d', 7 * 86_400_000, 'duration.7d']]

/** Drops empty strings and arrays: the API refuses empty text. */
function nonEmpty (o: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v.length > 0))
}
const lines = (s: string): string[] => s.split(/\r?\n/).map(x => x.trim()).filter(x => x !== '')

/** The series around detection, in either shape the collector has used. */
export function evidencePoints (inc: Incident): { points: Array<[number, number]>, unit?: string } {
  const ev = inc.evidence ?? {}
  const w = ev.window as { points?: Array<[number, number]>, unit?: string } | undefined
  if (Array.isArray(w?.points)) return { points: w.points, unit: w.unit }
  if (Array.isArray(ev.series)) return { points: ev.series as Array<[number, number]> }
  return { points: [] }
}

type FormKind = 'none' | 'assign' | 'note' | 'resolve' | 'silence' | 'reopen' | 'acknowledge'

export interface IncidentPanel {
  readonly el: HTMLElement
  readonly id: string
  show: (inc: Incident) => void
  reload: () => Promise<void>
  destroy: () => void
}

function evidenceUnit (inc: Incident): string {
  const given = evidencePoints(inc).unit
  if (given !== undefined) return given
  const k = inc.series ?? inc.key
  if (k.includes('_pct') || k.includes('pct')) return 'percent'
  if (k.includes('temp.') || k.includes('_c{') || k.endsWith('_c')) return 'celsius'
  if (k.includes('bytes_per_sec')) return 'bytes_per_second'
  if (k.includes('bytes')) return 'bytes'
  return 'count'
}

export function incidentPanel (id: string, opts: { onClose: () => void, onChanged: (inc: Incident) => void }): IncidentPanel {
  let incident: Incident | undefined
  let chart: TimeChart | undefined
  let form: FormKind = 'none'
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, t('overview.loading')))
  const status = h('p', { class: 'action-status', role: 'status', 'aria-live': 'polite' })
  const el = h('aside', { class: 'panel card', 'aria-label': t('incidents.title'), dataset: { incidentPanel: id } },
    h('button', { class: 'close', 'aria-label': t('incidents.close'), title: t('incidents.close'), onclick: opts.onClose }, '✕'),
    body, status)

  async function act (action: 'acknowledge' | 'assign' | 'notes' | 'resolve' | 'reopen', payload: Record<string, unknown>): Promise<void> {
    setText(status, '…')
    try {
      const res = await api.incidentAction(id, action, payload)
      const updated = unwrapIncident(res)
      form = 'none'
      setText(status, t('action.done'))
      if (updated !== undefined) { incident = { ...incident, ...updated }; opts.onChanged(incident) }
      await reload()
    } catch (err) {
      setText(status, t('action.failed', { msg: (err as Error).message }))
    }
  }

  async function silence (untilMs: number, scope: 'machine' | 'key', reason: string): Promise<void> {
    if (incident === undefined) return
    setText(status, '…')
    try {
      await api.silence({ machineId: incident.machineId, ...(scope === 'key' ? { keyPattern: incident.key } : {}), until: new Date(untilMs).toISOString(), reason })
      form = 'none'
      setText(status, t('action.done'))
      render()
    } catch (err) {
      setText(status, t('action.failed', { msg: (err as Error).message }))
    }
  }

  // The open form survives re-renders (live updates of this incident) with what was typed.
  let formEl: HTMLElement | undefined
  let formElKind: FormKind = 'none'
  function actionForm (): HTMLElement | null {
    if (form === 'none') { formEl = undefined; formElKind = 'none'; return null }
    if (formEl !== undefined && formElKind === form) return formEl
    formEl = buildForm() ?? undefined
    formElKind = form
    return formEl ?? null
  }

  function buildForm (): HTMLElement | null {
    const inc = incident
    if (inc === undefined || form === 'none') return null
    const cancel = h('button', { type: 'button', class: 'ghost', onclick: () => { form = 'none'; render() } }, t('action.cancel'))
    if (form === 'acknowledge' || form === 'note' || form === 'reopen') {
      const text = h('textarea', { name: 'text', rows: '3', 'aria-label': t(form === 'reopen' ? 'action.reason' : 'action.noteText'), required: form !== 'acknowledge' })
      const label = form === 'acknowledge' ? 'action.acknowledge' : form === 'note' ? 'action.note' : 'action.reopen'
      return h('form', { class: 'action-form', dataset: { form }, onsubmit: (e: Event) => {
        e.preventDefault()
        const v = text.value.trim()
        if (form === 'acknowledge') void act('acknowledge', v === '' ? {} : { note: v })
        else if (form === 'note') void act('notes', { text: v })
        else void act('reopen', { reason: v })
      } },
      h('label', null, t(form === 'reopen' ? 'action.reason' : 'action.noteText'), text),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t(label)), cancel))
    }
    if (form === 'assign') {
      const who = h('input', { name: 'assignee', required: true, value: inc.assignee ?? '', autocomplete: 'name' })
      return h('form', { class: 'action-form', dataset: { form }, onsubmit: (e: Event) => { e.preventDefault(); void act('assign', { assignee: who.value.trim() }) } },
        h('label', null, t('action.assignee'), who),
        h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('action.assign')), cancel))
    }
    if (form === 'resolve') {
      const resolution = h('textarea', { name: 'resolution', rows: '3', required: true })
      const doc = h('input', { type: 'checkbox', name: 'document' })
      const articleChoice = h('select', { name: 'articleId' },
        h('option', { value: '' }, t('kb.new')),
        ...(inc.suggestions ?? []).map(s => h('option', { value: s.articleId }, s.title)))
      const titleIn = h('input', { name: 'title', value: inc.title })
      const symptoms = h('textarea', { name: 'symptoms', rows: '2' }, inc.title)
      const cause = h('textarea', { name: 'cause', rows: '2' })
      const steps = h('textarea', { name: 'steps', rows: '3', placeholder: t('kb.stepsOnePerLine') })
      const tags = h('input', { name: 'tags', value: inc.kind })
      const docFields = h('fieldset', { class: 'doc-fields', hidden: true },
        h('label', null, t('nav.kb'), articleChoice),
        h('label', null, t('kb.articleTitle'), titleIn),
        h('label', null, t('kb.symptoms'), symptoms),
        h('label', null, t('kb.cause'), cause),
        h('label', null, t('kb.stepsOnePerLine'), steps),
        h('label', null, t('kb.tags'), tags))
      doc.addEventListener('change', () => { docFields.hidden = !doc.checked })
      resolution.addEventListener('input', () => { if (steps.value === '' || steps.dataset.auto === '1') { steps.value = resolution.value; steps.dataset.auto = '1' } })
      return h('form', { class: 'action-form', dataset: { form }, onsubmit: (e: Event) => {
        e.preventDefault()
        const payload: Record<string, unknown> = { resolution: resolution.value.trim() }
        if (doc.checked) {
          payload.document = articleChoice.value !== ''
            ? { articleId: articleChoice.value, ...nonEmpty({ steps: lines(steps.value) }) }
            : nonEmpty({ title: titleIn.value.trim(), symptoms: symptoms.value.trim(), cause: cause.value.trim(), steps: lines(steps.value), tags: tags.value.split(',').map(s => s.trim()).filter(s => s !== '') })
        }
        void act('resolve', payload)
      } },
      h('label', null, t('action.resolution'), resolution),
      h('label', { class: 'check' }, doc, ' ', t('action.document')),
      docFields,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('action.resolve')), cancel))
    }
    // silence
    const dur = h('select', { name: 'duration' }, ...SILENCE_CHOICES.map(([v, , k]) => h('option', { value: v }, t(k))))
    const scope = h('select', { name: 'scope' }, h('option', { value: 'key' }, t('action.silenceKey')), h('option', { value: 'machine' }, t('action.silenceMachine')))
    const reason = h('input', { name: 'reason', required: true })
    return h('form', { class: 'action-form', dataset: { form }, onsubmit: (e: Event) => {
      e.preventDefault()
      const ms = SILENCE_CHOICES.find(c => c[0] === dur.value)?.[1] ?? 3_600_000
      void silence(Date.now() + ms, scope.value as 'key' | 'machine', reason.value.trim())
    } },
    h('label', null, t('action.silenceScope'), scope),
    h('label', null, t('action.silenceFor'), dur),
    h('label', null, t('action.reason'), reason),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('action.silence')), cancel))
  }

  function render (): void {
    const inc = incident
    if (inc === undefined) return
    chart?.destroy()
    chart = undefined
    const resolved = RESOLVED.has(inc.state)
    const button = (f: FormKind, label: MessageKey, primary = false): HTMLElement =>
      h('button', { type: 'button', class: primary ? 'primary' : '', 'aria-pressed': String(form === f), dataset: { action: f }, onclick: () => { form = form === f ? 'none' : f; render(); (el.querySelector('.action-form textarea, .action-form input, .action-form select') as HTMLElement | null)?.focus() } }, t(label))

    const series = evidencePoints(inc).points
    if (series.length > 1) {
      const first = series[0][0]
      const last = series[series.length - 1][0]
      chart = new TimeChart({ id: 'evidence', title: t('incidents.evidence'), unit: evidenceUnit(inc), windowMs: Math.max(60_000, (last - first) * 1.02) })
      chart.setSeries([{ key: 'e', label: inc.series ?? inc.key, unit: evidenceUnit(inc) }])
      chart.setPoints('e', series)
    }
    const values = Object.fromEntries(Object.entries(inc.evidence ?? {}).filter(([k, v]) => k !== 'window' && k !== 'series' && (typeof v !== 'object' || v === null || JSON.stringify(v).length < 120)))
    replace(body,
      h('div', { class: 'incident-top' }, severityBadge(inc.severity), h('span', { class: `badge state-${inc.state}` }, t(`state.${inc.state}`)),
        inc.flapping ? h('span', { class: 'badge flapping' }, t('incidents.flapping')) : null),
      h('h2', { class: 'panel-title' }, inc.title),
      h('p', null, h('a', { href: href('machines', inc.machineId) }, inc.hostname), h('span', { class: 'muted' }, ' · ', inc.key)),
      h('p', { class: 'muted' }, t('incidents.opened', { rel: formatRelative(inc.openedAt) }), ` (${formatDateTime(inc.openedAt)})`, inc.count > 1 ? ` · ${t('incidents.count', { n: inc.count })}` : ''),
      inc.assignee !== undefined ? h('p', null, t('incidents.assignee', { who: inc.assignee })) : null,
      inc.acknowledgedBy !== undefined ? h('p', null, t('incidents.ackBy', { who: inc.acknowledgedBy })) : null,
      inc.impactAt !== undefined ? h('p', { class: 'incident-impact' }, t('incidents.impact', { when: `${formatRelative(inc.impactAt)} (${formatDateTime(inc.impactAt)})` })) : null,
      inc.suspectedChange !== undefined ? h('p', { class: 'incident-change' }, suspectedText(inc.suspectedChange)) : null,
      inc.resolution !== undefined ? h('p', null, '✔ ', inc.resolution) : null,
      h('div', { class: 'actions row' },
        !resolved && inc.state !== 'acknowledged' ? button('acknowledge', 'action.acknowledge', true) : null,
        !resolved ? button('assign', 'action.assign') : null,
        button('note', 'action.note'),
        !resolved ? button('resolve', 'action.resolve', inc.state === 'acknowledged') : null,
        !resolved ? button('silence', 'action.silence') : null,
        resolved ? button('reopen', 'action.reopen') : null),
      actionForm(),
      chart?.el ?? null,
      Object.keys(values).length > 0
        ? h('dl', { class: 'facts evidence-values' }, ...Object.entries(values).map(([k, v]) => [h('dt', null, k), h('dd', null, typeof v === 'number' ? String(Math.round(v * 100) / 100) : typeof v === 'string' ? (/^\d{4}-\d\d-\d\dT/.test(v) ? formatDateTime(v) : v) : JSON.stringify(v))]))
        : null,
      h('h3', null, t('incidents.suggestions')),
      (inc.suggestions ?? []).length === 0
        ? h('p', { class: 'muted' }, t('incidents.noSuggestions'))
        : h('ul', { class: 'suggestions' }, ...(inc.suggestions ?? []).map(s => h('li', null,
          h('a', { href: href('kb', s.articleId) }, s.title), ' ', h('span', { class: 'muted' }, `${Math.round(s.score * 100)} % · ${t('incidents.resolvedTimes', { n: s.resolvedCount })}`)))),
      (inc.timeline ?? []).length === 0 ? null : h('h3', null, t('incidents.timeline')),
      (inc.timeline ?? []).length === 0 ? null : h('ol', { class: 'timeline' }, ...(inc.timeline ?? []).map(e => h('li', null,
        h('span', { class: 'muted', title: formatDateTime(e.at) }, formatRelative(e.at)), ' ', h('strong', null, e.type), e.by !== undefined ? ` — ${e.by}` : '', e.text !== undefined ? h('div', null, e.text) : null))))
    if (chart !== undefined) {
      const c = chart
      const last = series[series.length - 1]?.[0] ?? Date.now()
      requestAnimationFrame(() => { c.render(last) })
    }
  }

  async function reload (): Promise<void> {
    try {
      const inc = await api.incident(id)
      incident = unwrapIncident(inc) ?? inc
      render()
    } catch (err) {
      replace(body, h('p', { class: 'error' }, t('error.generic', { msg: (err as Error).message })))
    }
  }

  void reload()
  return {
    el,
    id,
    show: (inc) => { if (form === 'none') { incident = { ...incident, ...inc }; render() } },
    reload,
    destroy: () => { chart?.destroy() }
  }
}
