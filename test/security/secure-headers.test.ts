/**
 * Issue 14, item 7: security headers on every response (API, static files,
 * errors) and no source maps served unless asked.
 */
import fs from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { closeSettled } from './helpers.js'
import { testApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'

const EXPECTED = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer'
}

/** A tiny dashboards folder: a page, a script and its source map. */
function fakeDashboards (t: Test): string {
  const dir = tempDir(t, 'vigie-dash-')
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title><script type="module" src="app.js"></script>')
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)\n//# sourceMappingURL=app.js.map\n')
  fs.writeFileSync(path.join(dir, 'app.js.map'), '{"version":3,"sources":["../src/main.ts"],"mappings":""}')
  return dir
}

function checkHeaders (t: Test, headers: Record<string, unknown>, what: string): void {
  for (const [k, v] of Object.entries(EXPECTED)) t.equal(headers[k], v, `${what}: ${k}`)
  const csp = String(headers['content-security-policy'] ?? '')
  t.match(csp, /frame-ancestors 'none'/, `${what}: CSP forbids framing`)
  t.match(csp, /script-src 'self'(;|$)/, `${what}: CSP allows our own scripts only`)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: no inline script or style allowed`)
  t.match(csp, /default-src 'none'/, `${what}: everything else is denied`)
}

t.test('API, static, error, 404 and 429 responses all carry the security headers', async t => {
  const dashboardsDir = fakeDashboards(t)
  const h = await testApp({ config: { dashboardsDir, rateLimitIpPerMin: 60 } })
  t.teardown(async () => { await closeSettled(h) })
  const auth = { authorization: `Bearer ${h.viewerToken}` }
  const cases: Array<[string, InjectOptions, number]> = [
    ['API', { url: '/api/v1/machines', headers: auth }, 200],
    ['static page', { url: '/' }, 200],
    ['static script', { url: '/app.js' }, 200],
    ['401', { url: '/api/v1/machines' }, 401],
    ['400', { method: 'POST', url: '/api/v1/auth/login', payload: { username: 'x' } }, 400],
    ['404', { url: '/no/such/thing' }, 404],
    ['health', { url: '/healthz' }, 200]
  ]
  for (const [what, req, status] of cases) {
    const res = await h.app.inject(req)
    t.equal(res.statusCode, status, `${what} answers ${status}`)
    checkHeaders(t, res.headers, what)
  }
  let limited
  for (let i = 0; i < 20 && limited === undefined; i++) {
    const r = await h.app.inject({ url: '/healthz', remoteAddress: '10.1.2.3' })
    if (r.statusCode === 429) limited = r
  }
  t.ok(limited, 'the flood is limited')
  checkHeaders(t, limited!.headers, '429')
})

t.test('a .map URL answers 404 by default; VIGIE_SOURCE_MAPS=true serves it', async t => {
  const dashboardsDir = fakeDashboards(t)
  const h = await testApp({ config: { dashboardsDir } })
  const map = await h.app.inject({ url: '/app.js.map' })
  t.equal(map.statusCode, 404, 'no source map by default, even when the file exists')
  t.equal(map.json().code, 'VIGIE_ERR_ROUTE_NOT_FOUND')
  checkHeaders(t, map.headers, '404 .map')
  t.equal((await h.app.inject({ url: '/app.js.map?x=1' })).statusCode, 404, 'a query string does not get around it')
  t.equal((await h.app.inject({ url: '/APP.JS.MAP' })).statusCode, 404)
  await closeSettled(h)

  const asked = await testApp({ config: { dashboardsDir, sourceMaps: true } })
  t.teardown(async () => { await closeSettled(asked) })
  t.equal((await asked.app.inject({ url: '/app.js.map' })).statusCode, 200, 'served when asked for')
})

t.test('VIGIE_SOURCE_MAPS is validated', async t => {
  const { loadCollectorConfig } = await import('../../collector/core/config.js')
  t.equal(loadCollectorConfig({}, {}).sourceMaps, false, 'off by default')
  t.equal(loadCollectorConfig({}, { VIGIE_SOURCE_MAPS: 'true' }).sourceMaps, true)
  t.throws(() => loadCollectorConfig({}, { VIGIE_SOURCE_MAPS: 'maybe' }), /VIGIE_SOURCE_MAPS="maybe": expected true or false/)
})

t.test('the dashboards build writes no source map by default', async t => {
  const { buildDashboards } = await import('../../dashboards/build.js')
  const out = tempDir(t, 'vigie-dash-build-')
  await buildDashboards({ outDir: out })
  const files = fs.readdirSync(out)
  t.ok(files.includes('app.js'))
  t.same(files.filter(f => f.endsWith('.map')), [], 'no .map file')
  t.notMatch(fs.readFileSync(path.join(out, 'app.js'), 'utf8'), /sourceMappingURL/, 'the bundle points to no map')
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8')
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'index.html has no inline script')
  t.notMatch(html, /\son[a-z]+\s*=/i, 'index.html has no inline event handler')
  t.notMatch(html, /<style|\sstyle\s*=/i, 'index.html has no inline style')
})
