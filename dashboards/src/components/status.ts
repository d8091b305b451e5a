/** Status and severity badges: a colour, a shape and a word, so colour is never the only cue. */
import { h } from '../dom.js'
import { t } from '../i18n/index.js'
import type { MachineStatus, Severity } from '../types.js'

const STATUS_ICON: Record<MachineStatus, string> = {
  healthy: '●', warning: '▲', critical: '◆', 'offline-expected': '○', 'silent-unexpected': '◌', offline: '○'
}

export function statusBadge (s: MachineStatus, compact = false): HTMLElement {
  return h('span', { class: `badge status-${s}`, title: t(`status.${s}`), dataset: { status: s } },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, STATUS_ICON[s]),
    compact ? h('span', { class: 'sr-only' }, t(`status.${s}`)) : ' ' + t(`status.${s}`))
}

export function severityBadge (s: Severity | string): HTMLElement {
  const sev = (['info', 'warning', 'critical'].includes(s) ? s : 'info') as Severity
  return h('span', { class: `badge sev-${sev}` }, t(`severity.${sev}`))
}

/** A small bar with the value, coloured by level (warn ≥ 80 %, crit ≥ 90 % unless given). */
export function gauge (value: number | undefined, text: string, warn = 80, crit = 90, invert = false): HTMLElement {
  if (value === undefined) return h('span', { class: 'gauge gauge-none' }, t('value.none'))
  const level = invert
    ? (value <= crit ? 'crit' : value <= warn ? 'warn' : 'ok')
    : (value >= crit ? 'crit' : value >= warn ? 'warn' : 'ok')
  const pct = Math.max(0, Math.min(100, value))
  return h('span', { class: `gauge gauge-${level}` },
    h('span', { class: 'gauge-bar', 'aria-hidden': 'true' }, h('span', { class: 'gauge-fill', style: { width: `${pct}%` } })),
    h('span', { class: 'gauge-text' }, text))
}
