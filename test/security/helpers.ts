/** Shared pieces of the security tests: users, sessions and cookie-carrying requests on an in-process app. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { hashPassword } from '../../collector/auth/passwords.js'
import type { Role } from '../../collector/auth/api-tokens.js'

export interface Session { cookie: string, csrfToken: string, setCookie: string[] }

/** Creates a user directly in the store (fast path for tests). */
export async function addUser (app: FastifyInstance, username: string, password: string, role: Role): Promise<string> {
  const u = app.auth.users.create({ username, role, passwordHash: await hashPassword(password) }, Date.now())
  if (u === undefined) throw new Error(`user ${username} exists`)
  return u.id
}

export function cookiesOf (res: LightMyRequestResponse): string[] {
  const h = res.headers['set-cookie']
  return h === undefined ? [] : Array.isArray(h) ? h : [h]
}

/** Signs in through the API; returns the Cookie header to send and the CSRF token. */
export async function login (app: FastifyInstance, username: string, password: string, headers: Record<string, string> = {}): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, headers })
  if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`)
  const setCookie = cookiesOf(res)
  const cookie = setCookie.map(c => c.split(';')[0]).join('; ')
  return { cookie, csrfToken: res.json().csrfToken as string, setCookie }
}

/**
 * Closes an in-process app once its detection worker has booted: on a loaded machine
 * the worker's start can outlast Fastify's 10 s close-hook timeout, which then fails
 * the close (the wait here is bounded by the test's own timeout instead).
 */
export async function closeSettled (h: { app: FastifyInstance, close: () => Promise<void> }): Promise<void> {
  await h.app.detection.idle()
  await h.close()
}
