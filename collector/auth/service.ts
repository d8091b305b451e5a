/**
 * The trust services of one collector: users, sessions, agent-token lifecycle,
 * and the checks http/auth.ts runs for cookie-authenticated requests.
 */
import type { FastifyRequest } from 'fastify'
import type { Db } from '../store/sqlite/db.js'
import type { ApiPrincipal } from './api-tokens.js'
import { VigieError } from '../core/errors.js'
import { fastifyCookie } from '@fastify/cookie'
import { CSRF_HEADER, MAX_COOKIE_HEADER, SESSION_COOKIE } from './cookies.js'
import { SessionStore, sameSecret, type Session } from './sessions.js'
import { ROLE_RANK, UserStore } from './users.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export class AuthService {
  readonly users: UserStore
  readonly sessions: SessionStore
  readonly #now: () => number

  constructor (opts: { db: Db, now: () => number }) {
    this.users = new UserStore(opts.db)
    this.sessions = new SessionStore(opts.db)
    this.#now = opts.now
  }

  now (): number { return this.#now() }

  /** The live session named by the request's cookie, if any. */
  sessionOf (request: FastifyRequest): Session | undefined {
    const header = request.headers.cookie
    if (header === undefined || header.length > MAX_COOKIE_HEADER) return undefined
    // @fastify/cookie's parser (ready once the plugin is registered, at boot: auth/routes.ts)
    const id = fastifyCookie.parse(header)[SESSION_COOKIE]
    return id === undefined || id === '' ? undefined : this.sessions.find(id, this.#now())
  }

  /**
   * A cookie is sent by the browser on its own, so a request authenticated by one
   * must prove it comes from our page: no foreign Origin / cross-site fetch, and
   * for anything that changes data, the session's CSRF token in `x-csrf-token`.
   */
  checkCookieRequest (request: FastifyRequest, session: Session): void {
    if (!sameOrigin(request)) throw new VigieError('VIGIE_ERR_CSRF', `cross-site request refused (Origin ${String(request.headers.origin).slice(0, 100)})`)
    if (request.headers['sec-fetch-site'] === 'cross-site') throw new VigieError('VIGIE_ERR_CSRF', 'cross-site request refused')
    if (SAFE_METHODS.has(request.method)) return
    const sent = request.headers[CSRF_HEADER]
    if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
      throw new VigieError('VIGIE_ERR_CSRF', `missing or wrong ${CSRF_HEADER} header; use the csrfToken from sign-in or GET /api/v1/auth/me`)
    }
  }

  /**
   * An API token owned by a user acts with the lower of its own role and the
   * user's current one, and stops working when the user is disabled or deleted.
   */
  applyTokenOwner (who: ApiPrincipal): ApiPrincipal | undefined {
    const ownerId = this.users.tokenOwner(who.id)
    if (ownerId === undefined) return who
    const owner = this.users.get(ownerId)
    if (owner === undefined || owner.disabledMs !== null) return undefined
    return ROLE_RANK[owner.role] < ROLE_RANK[who.role] ? { ...who, role: owner.role } : who
  }

  /** Whether cookies must be marked Secure: the request came over https (directly or as told by a trusted proxy). */
  secureRequest (request: FastifyRequest): boolean {
    return request.protocol === 'https'
  }
}

/** False when the request carries an Origin header naming another host than the one it was sent to. */
export function sameOrigin (request: FastifyRequest): boolean {
  const origin = request.headers.origin
  if (typeof origin !== 'string' || origin === '') return true
  try {
    // Both through URL, so default ports (:80, :443) compare equal to none.
    return new URL(origin).host === new URL(`${request.protocol}://${request.host}`).host
  } catch {
    return false
  }
}
