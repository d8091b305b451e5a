/**
 * Technician authentication, in one place. Today: an API token pasted at sign-in,
 * kept in sessionStorage (or localStorage with "remember me"), sent as a Bearer
 * header and as `?token=` on the live WebSocket (browsers cannot set headers
 * there). A later change to login/password with cookies only touches this module:
 * `authHeaders()` would return nothing and `liveUrl()` would drop the query.
 */
const KEY = 'vigie.token'
type Listener = (signedIn: boolean) => void
const listeners = new Set<Listener>()

function read (store: Storage): string | undefined {
  try { return store.getItem(KEY) ?? undefined } catch { return undefined }
}

export function currentToken (): string | undefined {
  return read(sessionStorage) ?? read(localStorage)
}

export function isSignedIn (): boolean {
  return currentToken() !== undefined
}

/** Headers every API request carries. */
export function authHeaders (): Record<string, string> {
  const token = currentToken()
  return token === undefined ? {} : { authorization: `Bearer ${token}` }
}

/** The live WebSocket address, with whatever credential it needs. */
export function liveUrl (): string {
  const url = new URL('api/v1/live', location.href.split('#')[0])
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.search = ''
  const token = currentToken()
  if (token !== undefined) url.searchParams.set('token', token)
  return url.toString()
}

export class SignInError extends Error {
  constructor (readonly kind: 'refused' | 'unreachable', message: string) { super(message) }
}

/**
 * Checks the token against the collector, then keeps it. Throws SignInError
 * ('refused' for a bad token, 'unreachable' when the collector did not answer).
 */
export async function signIn (token: string, remember: boolean): Promise<void> {
  const trimmed = token.trim()
  let res: Response
  try {
    res = await fetch('api/v1/machines?limit=1', { headers: { authorization: `Bearer ${trimmed}` } })
  } catch (err) {
    throw new SignInError('unreachable', (err as Error).message)
  }
  if (!res.ok) {
    let msg = `HTTP ${res.status}`
    try { msg = ((await res.json()) as { message?: string }).message ?? msg } catch { /* not JSON */ }
    throw new SignInError(res.status === 401 || res.status === 403 ? 'refused' : 'unreachable', msg)
  }
  clear()
  try { (remember ? localStorage : sessionStorage).setItem(KEY, trimmed) } catch { /* storage off: this tab only */ }
  for (const l of listeners) l(true)
}

function clear (): void {
  try { sessionStorage.removeItem(KEY) } catch { /* ignore */ }
  try { localStorage.removeItem(KEY) } catch { /* ignore */ }
}

/** Forgets the credential everywhere. */
export function signOut (): void {
  clear()
  for (const l of listeners) l(false)
}

/** Called with true after sign-in, false after sign-out or a refused credential. */
export function onAuthChange (fn: Listener): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}
