/**
 * Runs a task every N seconds on the wall-clock grid a cron expression would
 * use (`cronFor`: at :00 and :30 for 30 s, on the hour for 3600 s), never
 * overlapping: a run still going at the next slot makes that slot be skipped.
 *
 * A plain timer, not a cron library: node-cron formats every candidate time
 * with Intl.DateTimeFormat, which pages in ~8 MB of ICU code and time-zone
 * data and costs CPU on every tick (bench/agent-footprint.ts).
 */

/** A cron expression for "every `sec` seconds", aligned to the wall clock where possible. */
export function cronFor (sec: number): string {
  if (sec < 60 && 60 % sec === 0) return sec === 1 ? '* * * * * *' : `*/${sec} * * * * *`
  if (sec % 60 === 0 && sec < 3600 && 60 % (sec / 60) === 0) return `0 */${sec / 60} * * * *`
  if (sec === 3600) return '0 0 * * * *'
  throw new Error(`interval ${sec}s does not divide a minute or an hour; use 1–6, 10, 12, 15, 20, 30 s or 1–6, 10, 12, 15, 20, 30, 60 min`)
}

/**
 * The first slot strictly after `t` (epoch ms) for a period that divides an
 * hour, on the local wall clock. Periods that divide a minute fall on the same
 * instants in every time zone (offsets are whole minutes), so the zone is
 * looked up only for longer periods (India's +5:30 shifts a 60-minute grid).
 */
export function nextSlot (t: number, periodMs: number, tzOffsetMin = (at: number) => new Date(at).getTimezoneOffset()): number {
  const shift = 60_000 % periodMs === 0 ? 0 : -tzOffsetMin(t) * 60_000
  const local = t + shift
  return local - (((local % periodMs) + periodMs) % periodMs) + periodMs - shift
}

export interface Scheduled { stop: () => Promise<void> }

export function every (sec: number, _name: string, task: () => Promise<void>, now: () => number = Date.now): Scheduled {
  cronFor(sec)
  const periodMs = sec * 1000
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const arm = (slot: number): void => {
    if (stopped) return
    timer = setTimeout(() => { void fire(slot) }, Math.max(0, slot - now()))
  }
  const fire = async (slot: number): Promise<void> => {
    timer = undefined
    try { await task() } catch { /* the task logs its own failures */ }
    // The first slot still ahead (after an overrun, the missed ones are skipped). A timer may
    // fire a hair early by the wall clock: never serve one slot twice. A clock set back by
    // more than half a period is simply followed.
    const t = now()
    arm(t < slot && slot - t < periodMs / 2 ? slot + periodMs : nextSlot(t, periodMs))
  }
  arm(nextSlot(now(), periodMs))
  return {
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}
