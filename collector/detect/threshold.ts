/**
 * Threshold rules: a value past a limit for at least `forMs` opens a finding;
 * it clears only once the value is back past the rule's `clear` level
 * (hysteresis), so a value hovering at the limit does not flap.
 */
import type { ThresholdRule } from './rules.js'
import type { Severity } from './finding.js'

/** Per (series, rule) state; plain JSON. */
export interface ThresholdState {
  /** time the current breach started, or -1 */
  since: number
  /** open severity, or '' when closed */
  open: Severity | ''
}

export function newThresholdState (): ThresholdState {
  return { since: -1, open: '' }
}

export interface ThresholdEvent {
  state: 'open' | 'clear'
  severity: Severity
  /** the limit that was crossed (open) or the clear level (clear) */
  limit: number
  /** how long the breach has held, ms */
  heldMs: number
}

function past (op: '>' | '<', v: number, limit: number | undefined): boolean {
  if (limit === undefined) return false
  return op === '>' ? v > limit : v < limit
}

/** Feed one point; returns an event when the rule opens, escalates or clears. */
export function stepThreshold (rule: ThresholdRule, st: ThresholdState, atMs: number, value: number): ThresholdEvent | undefined {
  const level: Severity | '' = past(rule.op, value, rule.critical) ? 'critical' : past(rule.op, value, rule.warning) ? 'warning' : ''
  if (st.open !== '') {
    const back = rule.op === '>' ? value <= rule.clear : value >= rule.clear
    if (back) {
      const sev = st.open
      st.open = ''
      st.since = -1
      return { state: 'clear', severity: sev, limit: rule.clear, heldMs: 0 }
    }
    if (level === 'critical' && st.open === 'warning' && atMs - st.since >= rule.forMs) {
      st.open = 'critical'
      return { state: 'open', severity: 'critical', limit: rule.critical as number, heldMs: atMs - st.since }
    }
    return undefined
  }
  if (level === '') { st.since = -1; return undefined }
  if (st.since < 0 || atMs < st.since) st.since = atMs
  const held = atMs - st.since
  if (held < rule.forMs) return undefined
  st.open = level
  return { state: 'open', severity: level, limit: (level === 'critical' ? rule.critical : rule.warning) as number, heldMs: held }
}
