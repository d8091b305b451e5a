/**
 * Seeded randomness for the simulator. Two kinds:
 *  - `Rng`: a sequential generator (sfc32) for building the fleet once;
 *  - `noise(...)`: a stateless hash of integers to [0, 1), so a value at a given
 *    simulated time depends only on (seed, machine, channel, time), never on the
 *    order or the number of calls. That is what makes runs repeatable even when
 *    the network reorders work.
 */

/** 32-bit integer hash (murmur3 finaliser) of a sequence of integers. */
export function hashInts (...xs: number[]): number {
  let h = 0x9e3779b9
  for (const x of xs) {
    // Fold in both 32-bit halves so large integers (epoch seconds, ms) keep their entropy.
    const lo = x | 0
    const hi = Math.floor(x / 4294967296) | 0
    h = Math.imul(h ^ lo, 0x85ebca6b)
    h = (h << 13) | (h >>> 19)
    h = Math.imul(h ^ hi, 0xc2b2ae35)
    h ^= h >>> 16
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** FNV-1a of a string, for turning names into hash inputs. */
export function hashString (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Uniform in [0, 1) from integers; stateless. */
export function noise (...xs: number[]): number {
  return hashInts(...xs) / 4294967296
}

/** Roughly normal (mean 0, sd 1) from integers: sum of four uniforms, rescaled. */
export function gauss (...xs: number[]): number {
  const h = hashInts(...xs)
  const a = noise(h, 1); const b = noise(h, 2); const c = noise(h, 3); const d = noise(h, 4)
  return (a + b + c + d - 2) * 1.7320508
}

/** Sequential seeded generator (sfc32). */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number

  constructor (seed: number) {
    this.#a = hashInts(seed, 1); this.#b = hashInts(seed, 2); this.#c = hashInts(seed, 3); this.#d = hashInts(seed, 4) | 1
    for (let i = 0; i < 12; i++) this.next()
  }

  /** Uniform in [0, 1). */
  next (): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return (t >>> 0) / 4294967296
  }

  range (lo: number, hi: number): number { return lo + (hi - lo) * this.next() }
  int (lo: number, hiInclusive: number): number { return lo + Math.floor(this.next() * (hiInclusive - lo + 1)) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (items: readonly T[]): T { return items[Math.floor(this.next() * items.length)] }

  /** Picks by weight; `weights` aligned with `items`. */
  weighted<T> (items: readonly T[], weights: readonly number[]): T {
    let total = 0
    for (const w of weights) total += w
    let r = this.next() * total
    for (let i = 0; i < items.length; i++) {
      r -= weights[i]
      if (r < 0) return items[i]
    }
    return items[items.length - 1]
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T> (items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const t = out[i]; out[i] = out[j]; out[j] = t
    }
    return out
  }
}
