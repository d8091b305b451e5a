/**
 * The ledger's content hash of a report: with it, a resend of a stored (agent, seq)
 * is told apart from a different report that reuses the seq (registry.ts).
 */
import type { Report } from '../../../protocol/index.js'

const HASH_F64 = new Float64Array(1)
const HASH_U32 = new Uint32Array(HASH_F64.buffer)

/**
 * A compact hash (FNV-1a, 32 bits) of what a report said: sampledAt and each
 * metric's name and value. Cheap (no string built, no crypto): it only has to tell
 * an identical resend from a different report that reuses a seq.
 */
export function reportContentHash (r: Report): number {
  let h = 0x811c9dc5
  const t = r.sampledAt
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193)
  for (const m of r.metrics) {
    const n = m.name
    for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 0x01000193)
    HASH_F64[0] = m.value
    h = Math.imul(h ^ HASH_U32[0], 0x01000193)
    h = Math.imul(h ^ HASH_U32[1], 0x01000193)
  }
  return h >>> 0
}
