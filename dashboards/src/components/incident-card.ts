/** One incident as a card: severity, title, machine, age, count, owner, predicted impact, suspected change. */
import { h } from '../dom.js'
import { formatDateTime, formatRelative } from '../format.js'
import { t } from '../i18n/index.js'
import { href } from '../router.js'
import type { Incident } from '../types.js'
import { severityBadge } from './status.js'

export function incidentCard (inc: Incident, opts: { showMachine?: boolean, selected?: boolean } = {}): HTMLElement {
  return h('a', {
    class: `incident-card sev-border-${inc.severity}${opts.selected === true ? ' selected' : ''}`,
    href: href('incidents', inc.id),
    dataset: { incident: inc.id, state: inc.state }
  },
  h('div', { class: 'incident-top' },
    severityBadge(inc.severity),
    inc.state !== 'open' && inc.state !== 'acknowledged' ? h('span', { class: `badge state-${inc.state}` }, t(`state.${inc.state}`)) : null,
    inc.flapping ? h('span', { class: 'badge flapping' }, t('incidents.flapping')) : null,
    inc.count > 1 ? h('span', { class: 'muted' }, t('incidents.count', { n: inc.count })) : null,
    h('span', { class: 'grow' }),
    h('span', { class: 'muted', title: formatDateTime(inc.openedAt) }, formatRelative(inc.openedAt))),
  h('div', { class: 'incident-title' }, inc.title),
  opts.showMachine !== false ? h('div', { class: 'incident-machine muted' }, inc.hostname) : null,
  inc.impactAt !== undefined ? h('div', { class: 'incident-impact' }, t('incidents.impact', { when: `${formatRelative(inc.impactAt)} (${formatDateTime(inc.impactAt)})` })) : null,
  inc.suspectedChange !== undefined ? h('div', { class: 'incident-change' }, suspectedText(inc.suspectedChange)) : null,
  inc.assignee !== undefined ? h('div', { class: 'muted' }, t('incidents.assignee', { who: inc.assignee })) : inc.acknowledgedBy !== undefined ? h('div', { class: 'muted' }, t('incidents.ackBy', { who: inc.acknowledgedBy })) : null)
}

export function suspectedText (c: NonNullable<Incident['suspectedChange']>): string {
  return t('incidents.suspected', { app: c.app, from: c.from ?? '∅', to: c.to ?? '∅', affected: c.affected, updated: c.updated })
}
