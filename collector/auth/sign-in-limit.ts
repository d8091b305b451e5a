/**
 * The per-username sign-in throttle. Each username has a small bucket of
 * attempts (`capacity`, default 10) that refills one attempt every
 * 15 min / capacity (90 s by default). An attempt takes its token BEFORE the
 * password hash runs, so parallel guesses cannot all pass the check; a
 * successful sign-in gives the token back. Nothing locks: once a flood stops,
 * the next attempt is evaluated within one refill interval (90 s by default),
 * and guesses stay throttled to `capacity` per 15 minutes per username however
 * many addresses they come from (each address is also limited on its own, in
 * the route's per-address limit).
 *
 * So that a flood from elsewhere cannot keep the real user out while it lasts,
 * an address that signed in successfully as a user within `knownForMs` (30 days)
 * draws from its own bucket for that user, not from the username's shared one.
 * Known addresses are kept in memory, bounded (least recently used evicted).
 */
import { RateLimiter, type TakeResult } from '../core/token-bucket.js'

export const SIGN_IN_WINDOW_SEC = 15 * 60
/** How long a successful sign-in makes its address "known" for that user. */
export const KNOWN_ADDRESS_MS = 30 * 86_400_000
const MAX_KNOWN = 10_000

export interface SignInTicket {
  /** whether the attempt may be evaluated; otherwise answer 429 with Retry-After */
  result: TakeResult
  /** call after a correct password: returns the token and remembers the address */
  succeeded: () => void
}

export class SignInThrottle {
  readonly #shared: RateLimiter
  readonly #known: RateLimiter
  readonly #knownAddresses = new Map<string, number>()
  readonly #now: () => number

  constructor (opts: { attemptsPer15Min: number, now: () => number }) {
    const bucket = { capacity: opts.attemptsPer15Min, refillPerSec: opts.attemptsPer15Min / SIGN_IN_WINDOW_SEC, now: opts.now }
    this.#shared = new RateLimiter(bucket)
    this.#known = new RateLimiter(bucket)
    this.#now = opts.now
  }

  /** Seconds until a drained username bucket lets the next attempt through. */
  static refillIntervalSec (attemptsPer15Min: number): number {
    return Math.ceil(SIGN_IN_WINDOW_SEC / attemptsPer15Min)
  }

  #isKnown (key: string): boolean {
    const at = this.#knownAddresses.get(key)
    return at !== undefined && this.#now() - at < KNOWN_ADDRESS_MS
  }

  /** Takes one attempt for `username` (lower-cased by the caller) from `ip`, before any hashing. */
  attempt (username: string, ip: string): SignInTicket {
    const addressKey = `${username}\n${ip}`
    const known = this.#isKnown(addressKey)
    const limiter = known ? this.#known : this.#shared
    const key = known ? addressKey : username
    const result = limiter.take(key)
    return {
      result,
      succeeded: () => {
        limiter.refund(key)
        this.#knownAddresses.delete(addressKey)
        this.#knownAddresses.set(addressKey, this.#now())
        if (this.#knownAddresses.size > MAX_KNOWN) {
          const oldest = this.#knownAddresses.keys().next().value
          if (oldest !== undefined) this.#knownAddresses.delete(oldest)
        }
      }
    }
  }
}
