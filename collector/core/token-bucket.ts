/**
 * Token buckets keyed by client address, agent id or username, in bounded
 * memory: at most `maxKeys` buckets, least recently used evicted first (an
 * evicted key simply starts again with a full bucket).
 */

export interface BucketOptions {
  /** burst size: requests allowed at once */
  capacity: number
  /** sustained rate, tokens per second */
  refillPerSec: number
  /** buckets kept at most */
  maxKeys?: number
  now?: () => number
}

export type TakeResult = { ok: true } | { ok: false, retryAfterSec: number }

export class RateLimiter {
  readonly #capacity: number
  readonly #refillPerMs: number
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #buckets = new Map<string, { tokens: number, atMs: number }>()

  constructor (opts: BucketOptions) {
    this.#capacity = opts.capacity
    this.#refillPerMs = opts.refillPerSec / 1000
    this.#maxKeys = opts.maxKeys ?? 100_000
    this.#now = opts.now ?? Date.now
  }

  get size (): number { return this.#buckets.size }

  #bucket (key: string): { tokens: number, atMs: number } {
    const now = this.#now()
    let b = this.#buckets.get(key)
    if (b === undefined) {
      b = { tokens: this.#capacity, atMs: now }
    } else {
      this.#buckets.delete(key) // re-inserted below: Map order is recency order
      b.tokens = Math.min(this.#capacity, b.tokens + (now - b.atMs) * this.#refillPerMs)
      b.atMs = now
    }
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next().value
      if (oldest !== undefined) this.#buckets.delete(oldest)
    }
    return b
  }

  #retryAfter (b: { tokens: number }, cost: number): number {
    return Math.max(1, Math.ceil((cost - b.tokens) / this.#refillPerMs / 1000))
  }

  /** Takes `cost` tokens if there are enough; otherwise says how long to wait, seconds. */
  take (key: string, cost = 1): TakeResult {
    const b = this.#bucket(key)
    if (b.tokens >= cost) { b.tokens -= cost; return { ok: true } }
    return { ok: false, retryAfterSec: this.#retryAfter(b, cost) }
  }

  /** Like take, without taking: would `cost` tokens be available now? */
  check (key: string, cost = 1): TakeResult {
    const b = this.#bucket(key)
    return b.tokens >= cost ? { ok: true } : { ok: false, retryAfterSec: this.#retryAfter(b, cost) }
  }

  /** Gives back `cost` tokens taken before (never above the capacity), e.g. when the attempt succeeded. */
  refund (key: string, cost = 1): void {
    const b = this.#bucket(key)
    b.tokens = Math.min(this.#capacity, b.tokens + cost)
  }

  /** Takes a token even when empty (debt), e.g. to count a failure after the fact. */
  charge (key: string, cost = 1): void {
    const b = this.#bucket(key)
    b.tokens = Math.max(-this.#capacity, b.tokens - cost)
  }
}
