/**
 * The two cookies of a technician's browser session, parsed and written here
 * (a dozen lines; no dependency needed):
 * - `vigie_session`: the session secret — HttpOnly, SameSite=Strict, Secure on https;
 * - `vigie_csrf`: the CSRF token — readable by the dashboard's script, which
 *   echoes it in the `x-csrf-token` header on requests that change data.
 */
export const SESSION_COOKIE = 'vigie_session'
export const CSRF_COOKIE = 'vigie_csrf'
export const CSRF_HEADER = 'x-csrf-token'

/** Cookie header → name/value pairs; malformed pairs are skipped, never thrown on. */
export function parseCookies (header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (typeof header !== 'string' || header.length > 8192) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    let value = part.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    try { value = decodeURIComponent(value) } catch { continue }
    if (!out.has(name)) out.set(name, value)
  }
  return out
}

export interface CookieOptions {
  maxAgeSec: number
  httpOnly: boolean
  secure: boolean
}

/** One Set-Cookie value. Path=/ and SameSite=Strict always. */
export function serializeCookie (name: string, value: string, opts: CookieOptions): string {
  let c = `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}; SameSite=Strict`
  if (opts.httpOnly) c += '; HttpOnly'
  if (opts.secure) c += '; Secure'
  return c
}
