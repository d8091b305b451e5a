/** How long the agent waits before trying the collector again: enrollment and shipping share this policy. */

/** The longest wait a collector's Retry-After can impose (rate limit, machine cap). */
export const RETRY_AFTER_CAP_MS = 3_600_000

/** Exponential backoff with full jitter, 1 s to 5 min: attempt n waits in [½, 1] of min(5 min, 2ⁿ s). */
export function backoffMs (attempt: number, random = Math.random): number {
  const cap = Math.min(300_000, 1000 * 2 ** Math.min(attempt, 20))
  return Math.round(cap / 2 + random() * cap / 2)
}

/** The collector's Retry-After, capped at an hour. */
export function retryAfterMs (ms: number): number {
  return Math.min(ms, RETRY_AFTER_CAP_MS)
}
