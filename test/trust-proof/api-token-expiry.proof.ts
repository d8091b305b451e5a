/**
 * Proof for issue 14, "API tokens never expire": a token made through the admin
 * API the old commit has (POST /api/v1/admin/tokens with a name and a role, no
 * expiry field, which the old schema refuses) is used as the collector's clock
 * walks past the documented default lifetime (VIGIE_API_TOKEN_DAYS, 90 days).
 */
import t from 'tap'
import { testApp } from '../helpers/app.js'

const DAY = 86_400_000

t.test('a token made with the default lifetime works before 90 days and is refused after', async t => {
  let now = Date.UTC(2026, 2, 1, 12)
  const h = await testApp({ now: () => now })
  t.teardown(h.close)
  const made = await h.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: { authorization: `Bearer ${h.adminToken}` }, payload: { name: 'script', role: 'viewer' } })
  t.equal(made.statusCode, 201)
  const use = async (): Promise<number> => (await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${made.json().token as string}` } })).statusCode
  t.equal(await use(), 200, 'a new token works')
  now += 89 * DAY
  t.equal(await use(), 200, 'after 89 days it still works')
  now += 2 * DAY
  t.equal(await use(), 401, 'after 91 days it is refused')
})
