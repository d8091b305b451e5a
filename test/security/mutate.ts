/**
 * fast-check arbitraries that damage protocol messages the way a buggy agent, a
 * fuzzer or an attacker would: wrong types, huge and non-finite numbers,
 * number-like strings, deep nesting, odd unicode, missing and extra fields,
 * prototype-pollution keys, and raw JSON text cut or corrupted.
 */
import fc from 'fast-check'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type PathSeg = string | number

/** Every path to a value inside `v` (the root excluded). */
export function pathsOf (v: unknown, prefix: PathSeg[] = [], out: PathSeg[][] = []): PathSeg[][] {
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([...prefix, i]); pathsOf(x, [...prefix, i], out) })
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push([...prefix, k]); pathsOf(x, [...prefix, k], out) }
  return out
}

function parentOf (root: any, path: PathSeg[]): any {
  let p = root
  for (const seg of path.slice(0, -1)) { p = p?.[seg]; if (p === null || typeof p !== 'object') return undefined }
  return p
}

const deep = (depth: number, leaf: Json): Json => {
  let v: Json = leaf
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v }
  return v
}

/** Values that break naive parsers and validators. */
export const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null, true, false, 0, -0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 1e-320,
    '', ' ', 'NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '0x1F', ' 12 ', '12abc', '1_000', '١٢', // Arabic-Indic digits
    '\u0000', '\uD800', '\uFEFF', '\u202Eevil', '🙂'.repeat(50), 'a'.repeat(10_000), 'percent', 'vga_fake',
    '2026-13-45T99:99:99Z', '2026-11-28T09:30:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
    [], {}, [null], [[]], { '': 1 }, { constructor: { prototype: { polluted: true } } }, { __proto__x: 1 }
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.integer({ min: 10, max: 400 }).map(d => deep(d, 1)),
  fc.integer({ min: 10, max: 2000 }).map(n => Array.from({ length: n }, (_, i) => i))
)

export type Mutation =
  | { op: 'set', pick: number, value: Json }
  | { op: 'delete', pick: number }
  | { op: 'extra', pick: number, key: string, value: Json }
  | { op: 'dup', pick: number }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), pick: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('extra' as const), pick: fc.nat(), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty')), value: nastyValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dup' as const), pick: fc.nat() }) }
)

/** Applies mutations to a deep copy of `base`. */
export function applyMutations<T> (base: T, muts: readonly Mutation[]): T {
  const root = JSON.parse(JSON.stringify(base)) as any
  // Values are copied in: fast-check may hand the same instance to two mutations, and
  // setting a value inside itself would make a cycle no sender could produce.
  const copy = (v: Json): Json => JSON.parse(JSON.stringify(v) ?? 'null') as Json
  for (const m of muts) {
    const paths = pathsOf(root)
    if (paths.length === 0) break
    const path = paths[m.pick % paths.length]
    const parent = parentOf(root, path)
    if (parent === undefined) continue
    const key = path[path.length - 1]
    if (m.op === 'set') parent[key] = copy(m.value)
    else if (m.op === 'delete') { if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key] }
    else if (m.op === 'dup') { if (Array.isArray(parent)) parent.push(JSON.parse(JSON.stringify(parent[Number(key)] ?? null))) }
    else {
      const target = parent[key]
      // An own "__proto__" key, as JSON.parse makes from a hostile sender's body (assignment would set the prototype).
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: copy(m.value), enumerable: true, writable: true, configurable: true })
      else if (Array.isArray(target)) target.push(copy(m.value))
    }
  }
  return root as T
}

/** Damages JSON text: cut it, flip a byte, or splice garbage in. */
export const textDamage = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), ch: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), s: fc.constantFrom('{', '}', '[', ']', ',', '"', '\\', '\\u', 'NaN', 'Infinity', 'undefined', '1e999', '/*x*/', '\u0000', '\uD800', '"__proto__":{"x":1},') })
)

export function damageText (text: string, d: { op: 'cut', at: number } | { op: 'flip', at: number, ch: string } | { op: 'splice', at: number, s: string }): string {
  const i = d.at % Math.max(1, text.length)
  if (d.op === 'cut') return text.slice(0, i)
  if (d.op === 'flip') return text.slice(0, i) + d.ch + text.slice(i + 1)
  return text.slice(0, i) + d.s + text.slice(i)
}

/** Nesting of arrays and objects in a parsed value (the oracle's own count, not the collector's). */
export function depthOf (v: unknown): number {
  let max = 0
  const stack: Array<[unknown, number]> = [[v, 0]]
  while (stack.length > 0) {
    const [x, d] = stack.pop()!
    if (x === null || typeof x !== 'object') continue
    if (d + 1 > max) max = d + 1
    for (const c of Array.isArray(x) ? x : Object.values(x)) stack.push([c, d + 1])
  }
  return max
}
