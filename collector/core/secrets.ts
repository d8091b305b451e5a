/**
 * Secrets are random, prefixed (so a leaked one is recognisable: `vga_` agent,
 * `vgt_` technician API, `vge_` enrollment) and only their SHA-256 is stored.
 * A fast hash is right here because the tokens carry 256 bits of entropy;
 * human passwords use scrypt instead.
 */
import { createHash, randomBytes } from 'node:crypto'

export function newToken (prefix: 'vga' | 'vgt' | 'vge'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}

export function hashToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Short random ids, e.g. `m_9f3k2l…` for machines. */
export function newId (prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`
}

/** Replaces anything that looks like a Vigie secret in a string. */
export function redactSecrets (text: string): string {
  return text.replace(/\bvg[ate]_[A-Za-z0-9_-]{20,}/g, '[redacted]')
}
