/**
 * The two cookies of a technician's browser session (read and written with
 * @fastify/cookie, registered by the auth plugin):
 * - `vigie_session`: the session secret — HttpOnly, SameSite=Strict, Secure on https;
 * - `vigie_csrf`: the CSRF token — readable by the dashboard's script, which
 *   echoes it in the `x-csrf-token` header on requests that change data.
 */
import type { CookieSerializeOptions } from '@fastify/cookie'

export const SESSION_COOKIE = 'vigie_session'
export const CSRF_COOKIE = 'vigie_csrf'
export const CSRF_HEADER = 'x-csrf-token'
/** A Cookie header longer than this is not read (a browser sends far less for this site). */
export const MAX_COOKIE_HEADER = 8192

/** Path=/ and SameSite=Strict always. */
export function cookieOptions (maxAgeSec: number, httpOnly: boolean, secure: boolean): CookieSerializeOptions {
  return { path: '/', maxAge: Math.max(0, Math.floor(maxAgeSec)), sameSite: 'strict', httpOnly, secure }
}
