/**
 * Technician passwords: scrypt from node:crypto (memory-hard: N = 2^15, r = 8,
 * p = 1 → 32 MiB and ~50–100 ms per hash here), a random 16-byte salt per
 * password, compared in constant time. The parameters are stored with the hash
 * (`scrypt$15$8$1$salt$hash`), so they can be raised later without breaking
 * existing passwords. Hashing runs on libuv's thread pool, never on the event loop.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

const LOG_N = 15
const R = 8
const P = 1
const KEY_BYTES = 32
const SALT_BYTES = 16

/**
 * Shortest and longest password accepted, characters (UTF-16 code units). The
 * maximum bounds the cost of one hash; sign-in refuses longer ones unhashed.
 */
export const PASSWORD_MIN_LENGTH = 12
export const PASSWORD_MAX_LENGTH = 1024

function derive (password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN
  // scrypt needs 128·N·r·p bytes; node's default cap (32 MiB) is exactly N=2^15,r=8: leave headroom.
  const opts: ScryptOptions = { N, r, p, maxmem: 256 * N * r * p + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, opts, (err, key) => { if (err !== null) reject(err); else resolve(key) })
  })
}

/** Hashes a password for storage. */
export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await derive(password, salt, LOG_N, R, P)
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** A stored hash of a random password: verifying unknown users against it costs the same time as a real check. */
let dummy: Promise<string> | undefined
export function dummyHash (): Promise<string> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'))
  return dummy
}

/** True when `password` matches `stored`. Never throws on a malformed hash (false instead). */
export async function verifyPassword (password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [logN, r, p] = parts.slice(1, 4).map(Number)
  // Bounded so a tampered row cannot make one sign-in allocate gigabytes.
  if (!(logN >= 10 && logN <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) return false
  const salt = Buffer.from(parts[4], 'base64url')
  const expected = Buffer.from(parts[5], 'base64url')
  if (expected.length !== KEY_BYTES || password.length > PASSWORD_MAX_LENGTH) return false
  const key = await derive(password, salt, logN, r, p)
  return timingSafeEqual(key, expected)
}

/** A random password for `create-user` and admin resets: 24 URL-safe characters (144 bits). */
export function generatePassword (): string {
  return randomBytes(18).toString('base64url')
}

/**
 * Why a password is refused, or undefined when acceptable: the password policy
 * applied wherever a password is set (admin API create and change, `create-user`).
 */
export function passwordProblem (password: string, username?: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `a password needs at least ${PASSWORD_MIN_LENGTH} characters (got ${password.length})`
  if (password.length > PASSWORD_MAX_LENGTH) return `a password has at most ${PASSWORD_MAX_LENGTH} characters (got ${password.length})`
  if (password.trim() === '') return 'a password cannot be only spaces or other white space'
  if (username !== undefined && password.toLowerCase().includes(username.toLowerCase())) return 'a password must not contain the username'
  return undefined
}
