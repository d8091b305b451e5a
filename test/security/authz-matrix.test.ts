/**
 * Authorization matrix: every route the app registers (enumerated from the app
 * itself, so a new route cannot escape) × every kind of caller. Expected access
 * comes from the table below, by route prefix and method; a route no rule
 * classifies fails the test until someone decides who may call it.
 */
import t from 'tap'
import type { RouteOptions } from 'fastify'
import { testApp } from '../helpers/app.js'
import { addUser, login } from './helpers.js'

type Access = 'public' | 'agent' | 'viewer' | 'technician' | 'admin'
type Caller = 'anonymous' | 'agent' | 'viewer' | 'technician' | 'admin'

const READ = new Set(['GET', 'HEAD'])

/** First match wins. `read`/`write` split by method (GET/HEAD vs the rest). */
const RULES: Array<{ prefix: string, read: Access, write: Access, exact?: boolean }> = [
  { prefix: '/api/v1/enroll', read: 'public', write: 'public', exact: true },
  { prefix: '/api/v1/auth/login', read: 'public', write: 'public', exact: true },
  { prefix: '/api/v1/auth/logout', read: 'public', write: 'public', exact: true },
  { prefix: '/api/v1/auth/', read: 'viewer', write: 'viewer' },
  { prefix: '/api/v1/reports', read: 'agent', write: 'agent', exact: true },
  { prefix: '/api/v1/agent/', read: 'agent', write: 'agent' },
  { prefix: '/api/v1/admin/', read: 'admin', write: 'admin' },
  { prefix: '/api/v1/machines', read: 'viewer', write: 'technician' },
  { prefix: '/api/v1/live', read: 'viewer', write: 'viewer', exact: true },
  { prefix: '/api/v1/incidents', read: 'viewer', write: 'technician' },
  { prefix: '/api/v1/silences', read: 'viewer', write: 'technician' },
  { prefix: '/api/v1/kb', read: 'viewer', write: 'technician' },
  { prefix: '/api/v1/webhooks', read: 'admin', write: 'admin' },
  { prefix: '/api/v1/settings', read: 'admin', write: 'admin' },
  { prefix: '/api/v1/rules', read: 'viewer', write: 'admin' },
  // operators and the dashboard's static files
  { prefix: '/healthz', read: 'public', write: 'public', exact: true },
  { prefix: '/readyz', read: 'public', write: 'public', exact: true },
  { prefix: '/metrics', read: 'public', write: 'public', exact: true },
  { prefix: '/docs', read: 'public', write: 'public', exact: true }
]

function classify (method: string, url: string): Access | undefined {
  if (!url.startsWith('/api/') && !['/healthz', '/readyz', '/metrics', '/docs'].includes(url)) {
    return READ.has(method) ? 'public' : undefined // static files: GET only
  }
  for (const r of RULES) {
    if (r.exact === true ? url === r.prefix : url.startsWith(r.prefix)) return READ.has(method) ? r.read : r.write
  }
  return undefined
}

const CAN: Record<Caller, Set<Access>> = {
  anonymous: new Set(['public']),
  agent: new Set(['public', 'agent']),
  viewer: new Set(['public', 'viewer']),
  technician: new Set(['public', 'viewer', 'technician']),
  admin: new Set(['public', 'viewer', 'technician', 'admin'])
}

function concrete (url: string): string {
  return url.replace(/:[A-Za-z_]+/g, 'x_unknown').replace(/\*$/, 'x_unknown')
}

t.test('every route × every caller: allowed callers pass authorization, the others get 401/403', async t => {
  const registered: RouteOptions[] = []
  const h = await testApp({ config: { rateLimitIpPerMin: 0, rateLimitAgentPerMin: 0, loginAttemptsPer15Min: 10_000 }, onRoute: (r) => { registered.push(r) } })
  t.teardown(h.close)
  const techToken = (await h.app.apiTokens.create('technician', 'matrix tech')).token
  const agent = await h.enroll('matrix-pc')
  const headersOf: Record<Caller, Record<string, string>> = {
    anonymous: {},
    agent: { authorization: `Bearer ${agent.token}` },
    viewer: { authorization: `Bearer ${h.viewerToken}` },
    technician: { authorization: `Bearer ${techToken}` },
    admin: { authorization: `Bearer ${h.adminToken}` }
  }
  const pw = 'matrix-password-123'
  for (const role of ['viewer', 'technician', 'admin'] as const) await addUser(h.app, `m-${role}`, pw, role)

  const seen = new Map<string, { method: string, url: string, allowQueryToken: boolean }>()
  for (const r of registered) {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) {
      seen.set(`${method} ${r.url}`, { method, url: r.url, allowQueryToken: r.config?.allowQueryToken === true })
    }
  }
  const unclassified = [...seen.values()].filter(r => classify(r.method, r.url) === undefined).map(r => `${r.method} ${r.url}`)
  t.same(unclassified, [], 'every route is classified in the table of test/security/authz-matrix.test.ts')

  let checks = 0
  const failures: string[] = []
  const expect = (what: string, allowed: boolean, status: number): void => {
    checks++
    const refused = status === 401 || status === 403
    if (allowed === refused) failures.push(`${what}: expected ${allowed ? 'allowed' : '401/403'}, got ${status}`)
    if (status >= 500) failures.push(`${what}: ${status}`)
  }
  const inject = (method: string, url: string, headers: Record<string, string>) =>
    h.app.inject({ method: method as 'GET', url, headers, ...(READ.has(method) ? {} : { payload: {} }) })

  const sessions = new Map<string, Awaited<ReturnType<typeof login>>>()
  for (const role of ['viewer', 'technician', 'admin'] as const) sessions.set(role, await login(h.app, `m-${role}`, pw))
  const routes = [...seen.values()].filter(r => classify(r.method, r.url) !== undefined)
  for (const r of routes) {
    const access = classify(r.method, r.url)!
    const url = concrete(r.url)
    for (const caller of Object.keys(headersOf) as Caller[]) {
      const res = await inject(r.method, url, headersOf[caller])
      expect(`${caller} ${r.method} ${r.url}`, CAN[caller].has(access), res.statusCode)
    }
    // The same roles signed in with a password: cookie + CSRF token for changes.
    for (const role of ['viewer', 'technician', 'admin'] as const) {
      const s = sessions.get(role)!
      const withCsrf = await inject(r.method, url, { cookie: s.cookie, 'x-csrf-token': s.csrfToken })
      expect(`session:${role} ${r.method} ${r.url}`, CAN[role].has(access) && access !== 'agent', withCsrf.statusCode)
      if (!READ.has(r.method) && access !== 'public') {
        const noCsrf = await inject(r.method, url, { cookie: s.cookie })
        expect(`session:${role} without CSRF ${r.method} ${r.url}`, false, noCsrf.statusCode)
      }
      if (r.url === '/api/v1/auth/logout') sessions.set(role, await login(h.app, `m-${role}`, pw))
    }
    // ?token= is honoured only where a browser WebSocket needs it.
    if (READ.has(r.method) && access !== 'public' && access !== 'agent') {
      const res = await inject(r.method, `${url}?token=${encodeURIComponent(h.adminToken)}`, {})
      expect(`query token ${r.method} ${r.url}`, r.allowQueryToken, res.statusCode)
    }
  }
  t.same(failures, [], 'the matrix holds')
  t.comment(`authorization matrix: ${routes.length} routes (${new Set(routes.map(r => r.url)).size} paths) × 5 token callers + 3 session roles (with and without CSRF) + query-token checks = ${checks} checks`)
  t.ok(routes.some(r => r.url.startsWith('/api/v1/incidents')) && routes.some(r => r.url.startsWith('/api/v1/kb')) && routes.some(r => r.url.startsWith('/api/v1/webhooks')), "other areas' routes are in the matrix")
})

t.test('an agent can write only its own data and read nothing', async t => {
  const h = await testApp({ config: { rateLimitIpPerMin: 0, rateLimitAgentPerMin: 0 } })
  t.teardown(h.close)
  const a = await h.enroll('a')
  const b = await h.enroll('b')
  const { makeReport } = await import('../helpers/reports.js')
  const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(b.agentId, 1)] } })
  t.equal(res.statusCode, 403)
  t.equal(res.json().code, 'VIGIE_ERR_AGENT_MISMATCH')
  for (const url of ['/api/v1/machines', `/api/v1/machines/${a.agentId}`, `/api/v1/machines/${b.agentId}`, '/api/v1/incidents', '/api/v1/kb', '/api/v1/admin/audit', '/api/v1/auth/me']) {
    t.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${a.token}` } })).statusCode, 403, `agent cannot read ${url}`)
  }
  t.equal(h.app.registry.countStoredReports(b.agentId), 0)
})
