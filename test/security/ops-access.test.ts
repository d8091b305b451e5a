/**
 * Issue 14, item 7: /metrics and /docs behind a token when VIGIE_OPS_TOKEN is
 * set, and /docs built once rather than on every request.
 */
import t from 'tap'
import { closeSettled } from './helpers.js'
import { testApp } from '../helpers/app.js'

const OPS = 'ops-token-for-the-scraper-0123456789'

t.test('with VIGIE_OPS_TOKEN, /metrics and /docs need it (or an admin token); health stays open', async t => {
  const h = await testApp({ config: { opsToken: OPS } })
  t.teardown(async () => { await closeSettled(h) })
  for (const url of ['/metrics', '/docs']) {
    const none = await h.app.inject({ url })
    t.equal(none.statusCode, 401, `${url} without a token is refused`)
    t.equal(none.json().code, 'VIGIE_ERR_UNAUTHORIZED')
    t.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${OPS}x` } })).statusCode, 401, `${url}: a wrong token is refused`)
    t.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${h.viewerToken}` } })).statusCode, 403, `${url}: a viewer token is not enough`)
    t.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${OPS}` } })).statusCode, 200, `${url}: the ops token opens it`)
    t.equal((await h.app.inject({ url, headers: { authorization: `Bearer ${h.adminToken}` } })).statusCode, 200, `${url}: so does an admin token`)
  }
  t.match((await h.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${OPS}` } })).body, /vigie_reports_received_total/)
  t.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200, '/healthz needs no token')
  t.not((await h.app.inject({ url: '/readyz' })).statusCode, 401, '/readyz needs no token')
})

t.test('without VIGIE_OPS_TOKEN, /metrics and /docs stay open as before', async t => {
  const h = await testApp()
  t.teardown(async () => { await closeSettled(h) })
  t.equal((await h.app.inject({ url: '/metrics' })).statusCode, 200)
  t.equal((await h.app.inject({ url: '/docs' })).statusCode, 200)
  const { loadCollectorConfig } = await import('../../collector/core/config.js')
  t.throws(() => loadCollectorConfig({}, { VIGIE_OPS_TOKEN: 'short' }), /VIGIE_OPS_TOKEN=\(hidden\): expected at least 16 characters/, 'a short ops token is refused, never echoed')
})

t.test('/docs is built once, not on every request', async t => {
  const h = await testApp()
  t.teardown(async () => { await closeSettled(h) })
  // Count how often the document is written: once for any number of requests.
  const write = h.app.swagger.bind(h.app)
  let written = 0
  h.app.swagger = ((opts?: { yaml?: boolean }) => { written++; return write(opts as { yaml: true }) }) as typeof h.app.swagger
  const first = await h.app.inject({ url: '/docs' })
  t.equal(first.statusCode, 200)
  t.ok(first.json().paths['/api/v1/machines'], 'the document lists the routes')
  const second = await h.app.inject({ url: '/docs' })
  t.equal(second.body, first.body, 'the same document is served again')
  t.equal(written, 1, 'it was written once, on the first request')
  t.match(second.headers['content-type'], /application\/json/)
})
