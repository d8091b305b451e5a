/**
 * Issue 14, item 7: technician API tokens expire. Finding: API tokens never
 * expired. A token past its expiry is refused with 401 VIGIE_ERR_TOKEN_EXPIRED;
 * the expiry is given at creation (default VIGIE_API_TOKEN_DAYS, 90) and shown
 * in the listings; tokens made before expiry existed keep none and say so.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'
import { openDb } from '../../collector/store/sqlite/db.js'
import { Registry } from '../../collector/store/sqlite/registry.js'
import { ApiTokens } from '../../collector/auth/api-tokens.js'
import { SqliteApiTokenStore } from '../../collector/auth/sqlite-api-tokens.js'
import { SqliteMetricStore } from '../../collector/store/sqlite/metrics.js'
import { hashToken } from '../../collector/core/secrets.js'
import { addUser, login, closeSettled } from './helpers.js'

const DAY = 86_400_000
const ROOT = path.resolve(import.meta.dirname, '..', '..')

t.test('a token past its expiry is refused with 401 and a clear message; the listing shows the expiry', async t => {
  let now = Date.UTC(2026, 2, 1, 12)
  const h = await testApp({ now: () => now })
  t.teardown(async () => { await closeSettled(h) })
  const admin = { authorization: `Bearer ${h.adminToken}` }
  const made = await h.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: admin, payload: { name: 'script', role: 'viewer', expiresInDays: 1 } })
  t.equal(made.statusCode, 201)
  t.equal(made.json().expiresAt, new Date(now + DAY).toISOString(), 'the creation answer gives the expiry')
  const use = () => h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${made.json().token}` } })
  t.equal((await use()).statusCode, 200)
  now += DAY - 1
  t.equal((await use()).statusCode, 200, 'one millisecond before its expiry the token works')
  now += 1
  const expired = await use()
  t.equal(expired.statusCode, 401, 'at its expiry it is refused')
  t.equal(expired.json().code, 'VIGIE_ERR_TOKEN_EXPIRED')
  t.match(expired.json().message, new RegExp(`API token ${made.json().id} expired at 2026-03-02T12:00:00.000Z; create a new one`))
  const list = (await h.app.inject({ url: '/api/v1/admin/tokens', headers: admin })).json().items as Array<Record<string, unknown>>
  t.match(list.find(x => x.id === made.json().id), { expiresAt: '2026-03-02T12:00:00.000Z', expired: true }, 'the admin listing shows it expired')
  t.match(list.find(x => x.name === 'test admin'), { neverExpires: true }, 'a token made without an expiry says so')
  t.notOk(list.find(x => x.name === 'test admin')?.expiresAt)
})

t.test('the default lifetime is VIGIE_API_TOKEN_DAYS (90), bounded 1–3650 days, for admin and personal tokens', async t => {
  const now = Date.UTC(2026, 2, 1, 12)
  const h = await testApp({ now: () => now })
  const admin = { authorization: `Bearer ${h.adminToken}` }
  const create = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: admin, payload: { name: 'x', role: 'viewer', ...payload } })
  t.equal((await create({})).json().expiresAt, new Date(now + 90 * DAY).toISOString(), 'default 90 days')
  t.equal((await create({ expiresInDays: 3650 })).statusCode, 201, 'at the maximum')
  t.equal((await create({ expiresInDays: 3651 })).json().code, 'VIGIE_ERR_VALIDATION', 'one over the maximum')
  t.equal((await create({ expiresInDays: 0 })).json().code, 'VIGIE_ERR_VALIDATION', 'at least one day')

  await addUser(h.app, 'ivy', 'correct horse battery', 'technician')
  const s = await login(h.app, 'ivy', 'correct horse battery')
  const session = { cookie: s.cookie, 'x-csrf-token': s.csrfToken }
  const own = await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: session, payload: { name: 'mine', expiresInDays: 7 } })
  t.equal(own.statusCode, 201)
  t.equal(own.json().expiresAt, new Date(now + 7 * DAY).toISOString())
  const mine = (await h.app.inject({ url: '/api/v1/auth/tokens', headers: session })).json().items
  t.match(mine, [{ id: own.json().id, expiresAt: new Date(now + 7 * DAY).toISOString() }], 'the personal listing shows the expiry')
  await closeSettled(h)

  const short = await testApp({ now: () => now, config: { apiTokenDays: 7 } })
  t.teardown(async () => { await closeSettled(short) })
  const r = await short.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: { authorization: `Bearer ${short.adminToken}` }, payload: { name: 'x', role: 'viewer' } })
  t.equal(r.json().expiresAt, new Date(now + 7 * DAY).toISOString(), 'the configured default applies')
  const { loadCollectorConfig } = await import('../../collector/core/config.js')
  t.equal(loadCollectorConfig({}, {}).apiTokenDays, 90)
  t.throws(() => loadCollectorConfig({}, { VIGIE_API_TOKEN_DAYS: '0' }), /VIGIE_API_TOKEN_DAYS="0": expected an integer from 1 to 3650/)
})

t.test('migration: tokens of an older database keep working with no expiry', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'vigie.db')
  const db = openDb(file)
  t.notOk((db.prepare('PRAGMA table_info(api_tokens)').all() as Array<{ name: string }>).some(c => c.name === 'expires_ms'), 'an old schema: no expiry column yet')
  db.prepare('INSERT INTO api_tokens (id, token_hash, role, name, created_ms) VALUES (?, ?, ?, ?, ?)').run('tok_old', hashToken('vgt_old-token-value'), 'admin', 'old', 1)
  void new Registry(db, new SqliteMetricStore(db))
  const apiTokens = new ApiTokens(new SqliteApiTokenStore(db))
  t.match(await apiTokens.find('vgt_old-token-value'), { id: 'tok_old', expiresMs: null }, 'the old token is found, without expiry')
  t.match(await apiTokens.list(), [{ id: 'tok_old', expiresMs: null }])
  db.close()
})

t.test('npm run token takes --expires-days (default 90) and refuses a bad value', async t => {
  const dataDir = tempDir(t)
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector', 'main.ts'), 'create-token', ...args],
    { cwd: ROOT, env: { ...process.env, VIGIE_DATA_DIR: dataDir }, encoding: 'utf8' })
  const before = Date.now()
  const ok = cli('--role', 'viewer', '--name', 'prom', '--expires-days', '3')
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, /^vgt_/)
  t.match(ok.stderr, /expires \d{4}-\d\d-\d\dT.* \(3 days\)/)
  const bad = cli('--role', 'viewer', '--expires-days', '0')
  t.equal(bad.status, 78)
  t.match(bad.stderr, /--expires-days 0: expected an integer from 1 to 3650/)
  const db = openDb(path.join(dataDir, 'vigie.db'))
  void new Registry(db, new SqliteMetricStore(db))
  const found = await new ApiTokens(new SqliteApiTokenStore(db)).find(ok.stdout.trim())
  db.close()
  t.ok(found?.expiresMs !== null && found!.expiresMs! >= before + 3 * DAY && found!.expiresMs! <= Date.now() + 3 * DAY, 'stored with a 3-day expiry')
})
