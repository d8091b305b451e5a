/**
 * Technician authentication, in one place. Two ways in:
 * - username and password: the collector sets an HttpOnly session cookie (sent by
 *   the browser with every request and with the live WebSocket) and returns a CSRF
 *   token, kept here and sent as `x-csrf-token` on every request that changes data;
 * - an API token pasted at sign-in, kept in sessionStorage (or localStorage with
 *   "remember me"), sent as a Bearer header and as `?token=` on the live WebSocket
 *   (browsers cannot set headers there).
 */
const KEY = 'vigie.token'
const SESSION_KEY = 'vigie.session'

interface Session { username: string, csrf: string }

function readSession (): Session | undefined {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const raw = store.getItem(SESSION_KEY)
      if (raw !== null) return JSON.parse(raw) as Session
    } catch { /* storage off or damaged */ }
  }
  return undefined
}
type Listener = (signedIn: boolean) => void
const listeners = new Set<Listener>()

function read (store: Storage): string | undefined {
  try { return store.getItem(KEY) ?? undefined } catch { return undefined }
}

export function currentToken (): string | undefined {
  return read(sessionStorage) ?? read(localStorage)
}

export function isSignedIn (): boolean {
  return currentToken() !== undefined || readSession() !== undefined
}

/** Headers an API request carries: the token, or the CSRF token of the session for a change. */
export function authHeaders (method = 'GET'): Record<string, string> {
  const token = currentToken()
  if (token !== undefined) return { authorization: `Bearer ${token}` }
  const session = readSession()
  return session !== undefined && !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase()) ? { 'x-csrf-token': session.csrf } : {}
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

/**
 * Signs in with a technician account: the collector sets the session cookie; the
 * CSRF token it returns is kept for requests that change data.
 */
export async function signInWithPassword (username: string, password: string, remember: boolean): Promise<void> {
  let res: Response
  try {
    res = await fetch('api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: username.trim(), password }) })
  } catch (err) {
    throw new SignInError('unreachable', (err as Error).message)
  }
  let body: { csrfToken?: string, user?: { username: string }, message?: string } = {}
  try { body = await res.json() as typeof body } catch { /* not JSON */ }
  if (!res.ok || body.csrfToken === undefined) {
    throw new SignInError(res.status === 401 || res.status === 403 || res.status === 429 ? 'refused' : 'unreachable', body.message ?? `HTTP ${res.status}`)
  }
  clear()
  const session: Session = { username: body.user?.username ?? username, csrf: body.csrfToken }
  try { (remember ? localStorage : sessionStorage).setItem(SESSION_KEY, JSON.stringify(session)) } catch { /* this tab only */ }
  for (const l of listeners) l(true)
}

function clear (): void {
  for (const store of [sessionStorage, localStorage]) {
    try { store.removeItem(KEY); store.removeItem(SESSION_KEY) } catch { /* ignore */ }
  }
}

/** Forgets the credential everywhere (and ends the session on the collector). */
export function signOut (): void {
  const session = readSession()
  if (session !== undefined) {
    void fetch('api/v1/auth/logout', { method: 'POST', headers: { 'x-csrf-token': session.csrf, 'content-type': 'application/json' }, body: '{}' }).catch(() => {})
  }
  clear()
  for (const l of listeners) l(false)
}

/** Called with true after sign-in, false after sign-out or a refused credential. */
export function onAuthChange (fn: Listener): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}
