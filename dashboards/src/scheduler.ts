/**
 * Render batching. Live events arrive in bursts; views mark what changed and
 * ask for a render here. All asked renders run together in one animation frame,
 * at most once every MIN_GAP_MS, so a busy fleet costs a few renders a second.
 * Scrolling uses `frame()` instead, which is not throttled.
 */
const MIN_GAP_MS = 200
const pending = new Map<string, () => void>()
let scheduled = false
let lastRunMs = 0
/** Number of batched live renders so far (tests read it through window.__vigie). */
export const renderStats = { liveRenders: 0 }

function run (): void {
  scheduled = false
  lastRunMs = performance.now()
  const jobs = [...pending.values()]
  pending.clear()
  renderStats.liveRenders++
  for (const job of jobs) {
    try { job() } catch (err) { console.error('render failed', err) }
  }
}

/** Schedules `fn` under `key` (a later call with the same key replaces it) for the next batched render. */
export function scheduleRender (key: string, fn: () => void): void {
  pending.set(key, fn)
  if (scheduled) return
  scheduled = true
  const wait = Math.max(0, MIN_GAP_MS - (performance.now() - lastRunMs))
  if (wait === 0) requestAnimationFrame(run)
  else setTimeout(() => requestAnimationFrame(run), wait)
}

/** Runs `fn` in the next animation frame once, however often it is asked before then. */
export function frame (fn: () => void): () => void {
  let asked = false
  return () => {
    if (asked) return
    asked = true
    requestAnimationFrame(() => { asked = false; fn() })
  }
}
