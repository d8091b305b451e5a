/**
 * After schema validation, refuses bodies holding a number that is not finite.
 *
 * Why: when bodies were coerced, the string "1e999" became Infinity after the
 * `number` check, so a report value of "1e999" was accepted and stored as
 * Infinity — which JSON then writes as null in the machine's latest values. Found
 * by test/security/fuzz-ingest. Bodies are no longer coerced and TypeBox refuses
 * non-finite numbers, so this walk now guards only routes without a body schema.
 */

/** JSON pointer of the first non-finite number in `value`, or undefined. Bounded depth. */
export function firstNonFinite (value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : (path === '' ? '/' : path)
  if (value === null || typeof value !== 'object' || depth > 64) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = firstNonFinite(value[i], `${path}/${i}`, depth + 1)
      if (p !== undefined) return p
    }
    return undefined
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const p = firstNonFinite(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1)
    if (p !== undefined) return p
  }
  return undefined
}
