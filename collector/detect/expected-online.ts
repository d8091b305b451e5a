/**
 * Expected-online: each machine's usual online hours, learned per hour of the
 * week from its reports, so silence is judged against its own habits.
 *
 * For each of the 168 hours of the week we keep the probability that the machine
 * is still up at the end of that hour: an hour counts as "up" when a report was
 * sampled in its last quarter. (Counting any report in the hour would make the
 * hour a desktop is switched off in look like an online hour.) Each finished hour
 * moves its slot's probability toward 1 or 0 (a plain average over the first
 * weeks, then an EWMA of weight 0.3), so habits that change are relearned in a
 * few weeks.
 *
 * A machine is reported silent when nothing arrived for `silenceMs`, and both the
 * current hour and the hour `silenceMs` ago are ones it is up at with probability
 * ≥ `onlineProbability` (so a desktop that boots at 08:03 is not flagged at 08:00), and it has at
 * least `minWeeks` of history. Times are UTC hours of the week; a machine's
 * habits are learned in the same frame, so the time zone does not matter.
 */

const HOUR_MS = 3_600_000
const WEEK_HOURS = 168
const ALPHA = 0.3

/** Per machine state; plain JSON. */
export interface OnlineState {
  firstMs: number
  /** last report arrival, epoch ms */
  lastSeenMs: number
  /** absolute hour index (epoch hours) being observed, and whether it was up at its end */
  hour: number
  upLate: boolean
  /** probability per hour of week (index 0 = Thursday 00:00 UTC, the epoch's weekday) */
  p: number[]
  /** hours observed per slot (the first weeks average, then EWMA) */
  c: number[]
  /** an offline finding is open */
  open: boolean
}

export function newOnlineState (atMs: number): OnlineState {
  return { firstMs: atMs, lastSeenMs: atMs, hour: Math.floor(atMs / HOUR_MS), upLate: false, p: new Array<number>(WEEK_HOURS).fill(0), c: new Array<number>(WEEK_HOURS).fill(0), open: false }
}

/** Close every finished hour up to (excluding) `hour`. */
function advance (st: OnlineState, hour: number): void {
  if (hour <= st.hour) return
  // at most one week of missed hours changes anything
  const from = Math.max(st.hour, hour - WEEK_HOURS)
  for (let h = from; h < hour; h++) {
    const up = h === st.hour && st.upLate ? 1 : 0
    const slot = h % WEEK_HOURS
    st.c[slot] = Math.min(st.c[slot] + 1, 1000)
    st.p[slot] += Math.max(ALPHA, 1 / st.c[slot]) * (up - st.p[slot])
  }
  st.hour = hour
  st.upLate = false
}

/** A report sampled at `sampledAtMs` arrived at `receivedAtMs`. Returns true when an open offline finding should clear. */
export function recordReport (st: OnlineState, sampledAtMs: number, receivedAtMs: number): boolean {
  const hour = Math.floor(sampledAtMs / HOUR_MS)
  if (hour >= st.hour) {
    advance(st, hour)
    if (sampledAtMs - hour * HOUR_MS >= 0.75 * HOUR_MS) st.upLate = true
  }
  if (receivedAtMs > st.lastSeenMs) st.lastSeenMs = receivedAtMs
  if (st.open) { st.open = false; return true }
  return false
}

/** Learned probability that the machine is up at this hour of the week (no state change). */
export function usualOnline (st: OnlineState, nowMs: number): number {
  return st.p[Math.floor(nowMs / HOUR_MS) % WEEK_HOURS]
}

export interface SilenceVerdict {
  /** the machine is silent at an hour it is usually up */
  silent: boolean
  /** probability it is up at this hour of the week */
  usual: number
  silentForMs: number
}

/** Judge the machine at `nowMs` (called from the engine's tick). */
export function judgeSilence (st: OnlineState, nowMs: number, cfg: { minWeeks: number, onlineProbability: number, silenceMs: number }): SilenceVerdict {
  advance(st, Math.floor(nowMs / HOUR_MS))
  // it must have been expected up for the whole silence window, not just from this instant
  const usual = Math.min(st.p[Math.floor(nowMs / HOUR_MS) % WEEK_HOURS], st.p[Math.floor((nowMs - cfg.silenceMs) / HOUR_MS) % WEEK_HOURS])
  const silentForMs = nowMs - st.lastSeenMs
  const mature = nowMs - st.firstMs >= cfg.minWeeks * 7 * 24 * HOUR_MS
  return { silent: mature && silentForMs >= cfg.silenceMs && usual >= cfg.onlineProbability, usual, silentForMs }
}
