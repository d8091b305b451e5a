import type { MetricValue } from '../../protocol/index.js'
import t from 'tap'
import WebSocket from 'ws'
import { testApp } from '../helpers/app.js'
import { makeReport } from '../helpers/reports.js'
import { waitFor } from '../helpers/wait.js'
import { verifyPassword, hashPassword } from '../../collector/auth/passwords.js'
import { addUser, cookiesOf, login } from './helpers.js'

const PW = 'correct horse battery'

t.test('passwords are stored as salted scrypt hashes and verified in constant time', async t => {
  const h = await hashPassword(PW)
  t.match(h, /^scrypt\$15\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
  t.not(h, await hashPassword(PW), 'a fresh salt each time')
  t.ok(await verifyPassword(PW, h))
  t.notOk(await verifyPassword(PW + 'x', h))
  t.notOk(await verifyPassword(PW, 'scrypt$30$8$1$AAAA$BBBB'), 'absurd parameters are refused, not computed')
  t.notOk(await verifyPassword(PW, 'garbage'))
})

t.test('a technician signs in with a password: HttpOnly SameSite=Strict session cookie, CSRF token, /me, logout', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const id = await addUser(h.app, 'alice', PW, 'technician')
  const s = await login(h.app, 'alice', PW)
  const session = s.setCookie.find(c => c.startsWith('vigie_session='))!
  t.match(session, /HttpOnly/)
  t.match(session, /SameSite=Strict/)
  t.notMatch(session, /Secure/, 'plain http: no Secure flag')
  t.match(s.setCookie.find(c => c.startsWith('vigie_csrf='))!, /SameSite=Strict/)
  const stored = h.app.db.prepare('SELECT id_hash FROM sessions').all() as Array<{ id_hash: string }>
  t.equal(stored.length, 1)
  t.notOk(s.cookie.includes(stored[0].id_hash), 'only a hash of the session id is stored')

  const me = await h.app.inject({ url: '/api/v1/auth/me', headers: { cookie: s.cookie } })
  t.equal(me.statusCode, 200)
  t.same(me.json(), { user: { id, username: 'alice', role: 'technician' }, via: 'session', csrfToken: s.csrfToken })
  t.equal((await h.app.inject({ url: '/api/v1/machines', headers: { cookie: s.cookie } })).statusCode, 200, 'the cookie reads technician routes')

  const out = await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: s.cookie } })
  t.equal(out.statusCode, 204)
  t.match(cookiesOf(out).join('\n'), /vigie_session=; .*Max-Age=0/)
  t.equal((await h.app.inject({ url: '/api/v1/auth/me', headers: { cookie: s.cookie } })).statusCode, 401, 'the session is gone')
})

t.test('a session cookie among other cookies is read up to an 8 KiB Cookie header; a longer header is not read', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await addUser(h.app, 'carol', PW, 'viewer')
  const s = await login(h.app, 'carol', PW)
  const me = (cookie: string) => h.app.inject({ url: '/api/v1/auth/me', headers: { cookie } })
  const pad = (n: number) => `theme=dark; other="${'x'.repeat(n)}"`
  t.equal((await me(`${pad(10)}; ${s.cookie}`)).statusCode, 200, 'found among other cookies, quoted values skipped over')
  const atBound = `${s.cookie}; ${pad(0)}`
  const filler = 8192 - atBound.length
  t.equal((await me(`${s.cookie}; ${pad(filler)}`)).statusCode, 200, 'a header of exactly 8192 characters is read')
  t.equal((await me(`${s.cookie}; ${pad(filler + 1)}`)).statusCode, 401, 'one character more and the header is not read')
  t.equal((await me('vigie_session=%E0%A4%A')).statusCode, 401, 'a malformed value is no session, not an error')
})

t.test('cookies are Secure when a trusted proxy says the client used https', async t => {
  const h = await testApp({ config: { trustProxy: true } })
  t.teardown(h.close)
  await addUser(h.app, 'bob', PW, 'viewer')
  const s = await login(h.app, 'bob', PW, { 'x-forwarded-proto': 'https' })
  for (const c of s.setCookie) t.match(c, /; Secure/)
  const untrusted = await testApp()
  t.teardown(untrusted.close)
  await addUser(untrusted.app, 'bob', PW, 'viewer')
  const s2 = await login(untrusted.app, 'bob', PW, { 'x-forwarded-proto': 'https' })
  t.notMatch(s2.setCookie.join(), /Secure/, 'without VIGIE_TRUST_PROXY the header is not believed')
})

t.test('wrong passwords and unknown users get the same answer', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await addUser(h.app, 'carol', PW, 'viewer')
  const wrong = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'carol', password: 'nope-nope-nope' } })
  const unknown = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody', password: 'nope-nope-nope' } })
  t.equal(wrong.statusCode, 401)
  t.same(wrong.json(), unknown.json())
  t.equal(wrong.json().code, 'VIGIE_ERR_LOGIN_FAILED')
  t.equal(cookiesOf(wrong).length, 0)
})

t.test('unsafe requests with a session cookie need the x-csrf-token header and our own Origin; Bearer requests do not', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await addUser(h.app, 'admin1', PW, 'admin')
  const s = await login(h.app, 'admin1', PW)
  const post = (headers: Record<string, string>) => h.app.inject({ method: 'POST', url: '/api/v1/admin/enroll-tokens', payload: { name: 'site' }, headers })
  const none = await post({ cookie: s.cookie })
  t.equal(none.statusCode, 403)
  t.equal(none.json().code, 'VIGIE_ERR_CSRF')
  t.equal((await post({ cookie: s.cookie, 'x-csrf-token': 'x'.repeat(32) })).statusCode, 403, 'a wrong token')
  t.equal((await post({ cookie: s.cookie, 'x-csrf-token': s.csrfToken, origin: 'https://evil.example' })).statusCode, 403, 'a foreign Origin')
  t.equal((await h.app.inject({ url: '/api/v1/machines', headers: { cookie: s.cookie, origin: 'https://evil.example' } })).statusCode, 403, 'reads from a foreign Origin too')
  t.equal((await post({ cookie: s.cookie, 'x-csrf-token': s.csrfToken })).statusCode, 201)
  t.equal((await post({ cookie: s.cookie, 'x-csrf-token': s.csrfToken, origin: 'http://localhost:80' })).statusCode, 201, 'our own Origin')
  t.equal((await post({ authorization: `Bearer ${h.adminToken}` })).statusCode, 201, 'a Bearer token needs no CSRF token')
  const login2 = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'admin1', password: PW }, headers: { origin: 'https://evil.example' } })
  t.equal(login2.statusCode, 403, 'no sign-in from another site (login CSRF)')
})

t.test('sign-in is rate-limited per username and per address, with Retry-After', async t => {
  const h = await testApp({ config: { loginAttemptsPer15Min: 3 } })
  t.teardown(h.close)
  await addUser(h.app, 'dave', PW, 'viewer')
  const attempt = (username: string, password: string, ip = '10.0.0.1') => h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip })
  for (let i = 0; i < 3; i++) t.equal((await attempt('dave', 'wrong-password-' + i)).statusCode, 401)
  const limited = await attempt('dave', PW)
  t.equal(limited.statusCode, 429, 'even the right password waits once the user is locked')
  t.equal(limited.json().code, 'VIGIE_ERR_RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0, `Retry-After ${limited.headers['retry-after']} s`)
  t.equal((await attempt('DAVE', PW, '10.0.0.2')).statusCode, 429, 'per username, whatever the case and address')
  // per address: 3× the per-user budget, whatever the usernames
  let last = 0
  for (let i = 0; i < 10; i++) last = (await attempt(`user${i}`, 'x', '10.0.0.9')).statusCode
  t.equal(last, 429, 'one address trying many usernames is stopped too')
})

t.test('admins manage users: create (generated password shown once), change role, disable, delete; the last admin stays', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const auth = { authorization: `Bearer ${h.adminToken}` }
  const created = await h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: auth, payload: { username: 'erin', role: 'viewer' } })
  t.equal(created.statusCode, 201)
  const { user, password } = created.json()
  t.match(password, /^[A-Za-z0-9_-]{24}$/)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: auth, payload: { username: 'ERIN', role: 'viewer' } })).statusCode, 409, 'usernames are unique regardless of case')
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: auth, payload: { username: 'weak', role: 'viewer', password: 'short' } })).json().path, '/password')
  const list = await h.app.inject({ url: '/api/v1/admin/users', headers: auth })
  t.notMatch(list.body, /scrypt/, 'hashes never leave the collector')

  const s = await login(h.app, 'erin', password)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload: { username: 'x1', role: 'admin' } })).statusCode, 403, 'a viewer cannot create users')
  const promote = await h.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${user.id}`, headers: auth, payload: { role: 'admin' } })
  t.equal(promote.json().user.role, 'admin')
  t.equal((await h.app.inject({ url: '/api/v1/admin/users', headers: { cookie: s.cookie } })).statusCode, 200, 'the role change applies to the open session')
  const demote = await h.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${user.id}`, headers: auth, payload: { role: 'viewer' } })
  t.equal(demote.statusCode, 409, 'the last enabled admin cannot be demoted')
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}`, headers: auth })).statusCode, 409, '…nor deleted')
  await addUser(h.app, 'frank', PW, 'admin')
  t.equal((await h.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${user.id}`, headers: auth, payload: { disabled: true } })).statusCode, 200)
  t.equal((await h.app.inject({ url: '/api/v1/auth/me', headers: { cookie: s.cookie } })).statusCode, 401, 'disabling ends the sessions')
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'erin', password } })).statusCode, 401, 'a disabled user cannot sign in')
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${user.id}`, headers: auth })).statusCode, 204)
  t.equal((await h.app.inject({ url: `/api/v1/admin/users/${user.id}`, headers: auth })).statusCode, 404)
})

t.test('users own revocable API tokens that never exceed their role and die with the account', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await addUser(h.app, 'gina', PW, 'technician')
  const s = await login(h.app, 'gina', PW)
  const hdr = { cookie: s.cookie, 'x-csrf-token': s.csrfToken }
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: hdr, payload: { name: 'too much', role: 'admin' } })).statusCode, 403)
  const made = await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', headers: hdr, payload: { name: 'script' } })
  t.equal(made.statusCode, 201)
  const { id, token, role } = made.json()
  t.equal(role, 'technician')
  t.match(token, /^vgt_/)
  const list = await h.app.inject({ url: '/api/v1/auth/tokens', headers: hdr })
  t.same(list.json().items.map((i: { id: string }) => i.id), [id])
  t.notOk(list.body.includes(token), 'the value is shown once only')
  const me = await h.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })
  t.same(me.json(), { user: { id: me.json().user.id, username: 'gina', role: 'technician' }, via: 'token' })

  const adm = { authorization: `Bearer ${h.adminToken}` }
  const userId = me.json().user.id
  await h.app.inject({ method: 'PATCH', url: `/api/v1/admin/users/${userId}`, headers: adm, payload: { role: 'viewer' } })
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/admin/enroll-tokens', headers: { authorization: `Bearer ${token}` }, payload: { name: 'x' } })).statusCode, 403)
  t.equal((await h.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })).json().user.role, 'viewer', "a token follows its owner's lower role")
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${id}`, headers: hdr })).statusCode, 204)
  t.equal((await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'revoked at once')

  const t2 = (await h.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: adm, payload: { name: 'for gina', role: 'viewer', userId } })).json()
  t.equal((await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${t2.token}` } })).statusCode, 200)
  await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/users/${userId}`, headers: adm })
  t.equal((await h.app.inject({ url: '/api/v1/machines', headers: { authorization: `Bearer ${t2.token}` } })).statusCode, 401, "deleting the user revokes its tokens")
  const all = (await h.app.inject({ url: '/api/v1/admin/tokens', headers: adm })).json().items
  t.ok(all.find((x: { id: string, revokedAt?: string }) => x.id === t2.id)?.revokedAt)
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/tokens/${t2.id}`, headers: adm })).statusCode, 409)
})

t.test('enrollment tokens made through the admin API expire and run out', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const adm = { authorization: `Bearer ${h.adminToken}` }
  const made = (await h.app.inject({ method: 'POST', url: '/api/v1/admin/enroll-tokens', headers: adm, payload: { name: 'site A', maxUses: 2, expiresInHours: 1 } })).json()
  t.match(made.token, /^vge_/)
  const enroll = () => h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: made.token, hostname: 'pc', agentVersion: '1' } })
  t.equal((await enroll()).statusCode, 200)
  t.equal((await enroll()).statusCode, 200)
  t.equal((await enroll()).statusCode, 401, 'used up')
  const listed = (await h.app.inject({ url: '/api/v1/admin/enroll-tokens', headers: adm })).json().items.find((i: { id: string }) => i.id === made.id)
  t.match(listed, { name: 'site A', uses: 2, maxUses: 2, state: 'used-up' })
  t.notOk(JSON.stringify(listed).includes(made.token))
  const other = (await h.app.inject({ method: 'POST', url: '/api/v1/admin/enroll-tokens', headers: adm, payload: { name: 'b' } })).json()
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/enroll-tokens/${other.id}`, headers: adm })).statusCode, 204)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: other.token, hostname: 'pc', agentVersion: '1' } })).statusCode, 401, 'revoked')
  let now = Date.now()
  const clocked = await testApp({ now: () => now })
  t.teardown(clocked.close)
  const exp = (await clocked.app.inject({ method: 'POST', url: '/api/v1/admin/enroll-tokens', headers: { authorization: `Bearer ${clocked.adminToken}` }, payload: { name: 'short', expiresInHours: 1 } })).json()
  now += 2 * 3_600_000
  const listed2 = (await clocked.app.inject({ url: '/api/v1/admin/enroll-tokens', headers: { authorization: `Bearer ${clocked.adminToken}` } })).json().items
  t.equal(listed2.find((i: { id: string }) => i.id === exp.id).state, 'expired')
})

t.test('revoking an agent refuses it at once, closing its open stream with 4010', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as { port: number }).port
  const a = await h.enroll('pc-revoked')
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agent/stream`, { headers: { authorization: `Bearer ${a.token}` } })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const closed = new Promise<{ code: number, reason: string }>(resolve => { ws.once('close', (code, reason) => { resolve({ code, reason: reason.toString() }) }) })
  const res = await h.app.inject({ method: 'POST', url: `/api/v1/admin/agents/${a.agentId}/revoke`, headers: { authorization: `Bearer ${h.adminToken}` } })
  t.equal(res.statusCode, 200)
  t.same(await closed, { code: 4010, reason: 'agent revoked' }, 'the open stream is closed without waiting for a frame')
  const post = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, 1)] } })
  t.equal(post.statusCode, 401)
  t.equal((await h.app.inject({ method: 'POST', url: `/api/v1/admin/agents/${a.agentId}/revoke`, headers: { authorization: `Bearer ${h.adminToken}` } })).statusCode, 409)
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/admin/agents/m_nope/revoke', headers: { authorization: `Bearer ${h.adminToken}` } })).statusCode, 404)
})

t.test('an agent rotates its token: the new one works, the old one only during the grace period', async t => {
  let now = Date.now()
  const h = await testApp({ now: () => now, config: { agentTokenGraceSec: 600, agentTokenRotateDays: 30 } })
  t.teardown(h.close)
  const a = await h.enroll('pc-rot')
  // the agent's clock moves with the collector's (a report from 31 days ago would be refused)
  const send = (token: string, seq: number) => h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [makeReport(a.agentId, seq, { atMs: now, clockMs: now })] } })
  const first = await send(a.token, 1)
  t.equal(first.statusCode, 200)
  t.notOk(first.headers['vigie-token-rotate'], 'a fresh token is not due')
  now += 31 * 86_400_000
  t.equal((await send(a.token, 2)).headers['vigie-token-rotate'], 'due', 'an old token is told to rotate')
  const rot = await h.app.inject({ method: 'POST', url: '/api/v1/agent/rotate', headers: { authorization: `Bearer ${a.token}` } })
  t.equal(rot.statusCode, 200)
  const body = rot.json()
  t.match(body, { agentId: a.agentId, agentToken: /^vga_/ })
  t.equal(Date.parse(body.previousTokenValidUntil), now + 600_000)
  const fresh = await send(body.agentToken, 3)
  t.equal(fresh.statusCode, 200)
  t.notOk(fresh.headers['vigie-token-rotate'])
  t.equal((await send(a.token, 4)).statusCode, 200, 'the old token works during the grace period')
  now += 601_000
  t.equal((await send(a.token, 5)).statusCode, 401, 'then it is dead')
  t.equal((await send(body.agentToken, 6)).statusCode, 200)
  const audit = (await h.app.inject({ url: '/api/v1/admin/audit?action=agent.rotate', headers: { authorization: `Bearer ${h.adminToken}` } })).json().items
  t.equal(audit.length, 1)
})

t.test('an admin can demand a rotation by a deadline; a revoked agent loses its grace tokens too', async t => {
  let now = Date.now()
  const h = await testApp({ now: () => now })
  t.teardown(h.close)
  const adm = { authorization: `Bearer ${h.adminToken}` }
  const a = await h.enroll('pc-deadline')
  const send = (token: string, seq: number) => h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [makeReport(a.agentId, seq)] } })
  const req = await h.app.inject({ method: 'POST', url: `/api/v1/admin/agents/${a.agentId}/rotate`, headers: adm, payload: { deadlineHours: 1 } })
  t.equal(req.statusCode, 200)
  t.equal((await send(a.token, 1)).headers['vigie-token-rotate'], 'due')
  now += 2 * 3_600_000
  t.equal((await send(a.token, 2)).statusCode, 401, 'past the deadline the unrotated token is refused')

  const b = await h.enroll('pc-b')
  const rot = (await h.app.inject({ method: 'POST', url: '/api/v1/agent/rotate', headers: { authorization: `Bearer ${b.token}` } })).json()
  await h.app.inject({ method: 'POST', url: `/api/v1/admin/agents/${b.agentId}/revoke`, headers: adm })
  for (const tok of [b.token, rot.agentToken]) {
    t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${tok}` }, payload: { reports: [makeReport(b.agentId, 1)] } })).statusCode, 401)
  }
})

t.test('the audit log records technician actions and security events, queryable by admins', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const adm = { authorization: `Bearer ${h.adminToken}` }
  await addUser(h.app, 'hank', PW, 'admin')
  await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'hank', password: 'bad-password-1' }, remoteAddress: '10.1.1.1' })
  const s = await login(h.app, 'hank', PW)
  const tok = (await h.app.inject({ method: 'POST', url: '/api/v1/admin/tokens', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken }, payload: { name: 'ci', role: 'viewer' } })).json()
  await h.app.inject({ method: 'DELETE', url: `/api/v1/admin/tokens/${tok.id}`, headers: adm })
  await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: h.enrollToken, hostname: 'pc-audit', agentVersion: '1' } })
  await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: 'vge_wrong-wrong-wrong', hostname: 'pc-x', agentVersion: '1' } })
  await h.app.inject({ method: 'POST', url: '/api/v1/admin/users', headers: { cookie: s.cookie }, payload: { username: 'no-csrf', role: 'viewer' } })

  const q = async (qs: string) => (await h.app.inject({ url: `/api/v1/admin/audit${qs}`, headers: adm })).json().items as Array<Record<string, any>>
  const all = await q('')
  const actions = all.map(e => e.action)
  for (const a of ['auth.login_failed', 'auth.login', 'token.create', 'token.revoke', 'agent.enroll', 'agent.enroll_failed', 'access.denied']) t.ok(actions.includes(a), `${a} recorded`)
  t.match(all.find(e => e.action === 'auth.login_failed'), { actor: 'anonymous', target: 'hank', ip: '10.1.1.1', detail: { reason: 'wrong password' } })
  t.match(all.find(e => e.action === 'token.create'), { actor: 'user:hank', target: tok.id })
  t.notOk(JSON.stringify(all).includes(tok.token), 'no secret in the audit log')
  t.same((await q('?actor=user:hank')).map(e => e.action).sort(), ['access.denied', 'auth.login', 'token.create'])
  t.ok((await q('?action=auth.*')).every(e => e.action.startsWith('auth.')))
  t.equal((await q('?limit=2')).length, 2)
  t.equal((await q(`?from=${Date.now() + 60_000}`)).length, 0)
  const viewer = await h.app.inject({ url: '/api/v1/admin/audit', headers: { authorization: `Bearer ${h.viewerToken}` } })
  t.equal(viewer.statusCode, 403, 'only admins read the audit log')
})

t.test('any per-agent and per-address flood gets 429 with Retry-After, in bounded memory', async t => {
  const h = await testApp({ config: { rateLimitAgentPerMin: 60, rateLimitIpPerMin: 600 } })
  t.teardown(h.close)
  const a = await h.enroll('pc-flood')
  let limited
  for (let seq = 1; seq <= 40 && limited === undefined; seq++) {
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, seq)] } })
    if (r.statusCode === 429) limited = r
  }
  t.ok(limited, 'the agent is limited')
  t.equal(limited!.json().code, 'VIGIE_ERR_RATE_LIMITED')
  t.ok(Number(limited!.headers['retry-after']) >= 1)
  const b = await h.enroll('pc-calm')
  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${b.token}` }, payload: { reports: [makeReport(b.agentId, 1)] } })).statusCode, 200, 'another agent is not affected')
  let ipLimited = 0
  for (let i = 0; i < 200; i++) if ((await h.app.inject({ url: '/healthz', remoteAddress: '10.9.9.9' })).statusCode === 429) ipLimited++
  t.ok(ipLimited > 0, `one address flooding gets 429 (${ipLimited} of 200)`)
  t.equal((await h.app.inject({ url: '/healthz', remoteAddress: '10.9.9.8' })).statusCode, 200, 'other addresses are served')
})

t.test('many agents behind one NAT address are limited per agent, not per address; refused credentials still cost the address', async t => {
  const h = await testApp({ config: { rateLimitAgentPerMin: 60, rateLimitIpPerMin: 60 } })
  t.teardown(h.close)
  const nat = '10.20.30.40'
  const agents = await Promise.all(Array.from({ length: 40 }, async (_, i) => await h.enroll(`office-${i}`)))
  let refused = 0
  for (const a of agents) {
    for (let seq = 1; seq <= 3; seq++) {
      const r = await h.app.inject({ method: 'POST', url: '/api/v1/reports', remoteAddress: nat, headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, seq)] } })
      if (r.statusCode !== 200) refused++
    }
  }
  t.equal(refused, 0, '120 reports from 40 agents on one address in a burst: none refused')
  let limited = 0
  for (let i = 0; i < 40; i++) {
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/reports', remoteAddress: '10.20.30.41', headers: { authorization: 'Bearer vga_guessed-token-000000000000000000' }, payload: { reports: [makeReport('m_x', 1)] } })
    if (r.statusCode === 429) limited++
  }
  t.ok(limited > 0, `guessing agent tokens from one address ends in 429 (${limited} of 40)`)
})

t.test('the token bucket keeps a bounded number of keys', async t => {
  const { RateLimiter } = await import('../../collector/core/token-bucket.js')
  const l = new RateLimiter({ capacity: 1, refillPerSec: 1, maxKeys: 100 })
  for (let i = 0; i < 10_000; i++) l.take(`k${i}`)
  t.equal(l.size, 100)
})

t.test('an agent flooding its stream is closed with 1013 (and falls back to HTTP, which answers 429)', async t => {
  const h = await testApp({ config: { rateLimitAgentPerMin: 20 } })
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as { port: number }).port
  const a = await h.enroll()
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agent/stream`, { headers: { authorization: `Bearer ${a.token}` } })
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const closed = new Promise<number>(resolve => { ws.once('close', (code) => { resolve(code) }) })
  for (let seq = 1; seq <= 30; seq++) ws.send(JSON.stringify({ type: 'reports', reports: [makeReport(a.agentId, seq)] }))
  t.equal(await closed, 1013)
  await waitFor(() => h.app.streams.size === 0, { what: 'stream removed' })
})

t.test('the dashboard live WebSocket accepts the session cookie from our own origin only', async t => {
  const h = await testApp()
  t.teardown(h.close)
  await addUser(h.app, 'ivy', PW, 'viewer')
  const s = await login(h.app, 'ivy', PW)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as { port: number }).port
  const open = (origin: string) => new Promise<string>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { cookie: s.cookie, origin } })
    ws.once('message', (d) => { resolve(JSON.parse(String(d)).type as string); ws.close() })
    ws.once('unexpected-response', (_req, res) => { resolve(`HTTP ${res.statusCode}`) })
    ws.once('error', () => { resolve('error') })
  })
  t.equal(await open(`http://127.0.0.1:${port}`), 'hello', 'same origin: the stream opens with the cookie, no token in the URL')
  t.equal(await open('https://evil.example'), 'HTTP 403', 'cross-site WebSocket hijacking is refused')
})

t.test('a WebSocket peer that stops answering pings is dropped', async t => {
  const h = await testApp({ config: { wsPingSec: 1 } })
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as { port: number }).port
  const a = await h.enroll()
  const b = await h.enroll('alive')
  const silent = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agent/stream`, { headers: { authorization: `Bearer ${a.token}` }, autoPong: false })
  const alive = new WebSocket(`ws://127.0.0.1:${port}/api/v1/agent/stream`, { headers: { authorization: `Bearer ${b.token}` } })
  t.teardown(() => alive.close())
  await Promise.all([silent, alive].map(ws => new Promise(resolve => ws.once('open', resolve))))
  const started = Date.now()
  await new Promise(resolve => silent.once('close', resolve))
  t.ok(Date.now() - started < 4000, `dropped after ${Date.now() - started} ms`)
  t.equal(alive.readyState, WebSocket.OPEN, 'a peer answering pings stays')
})

t.test('an agent inventing new series cannot grow the store or the detector without bound', async t => {
  const h = await testApp({ config: { maxSeriesPerMachine: 50, rateLimitAgentPerMin: 0 } })
  t.teardown(h.close)
  const a = await h.enroll('pc-noisy')
  for (let seq = 1; seq <= 10; seq++) {
    const metrics: MetricValue[] = [{ name: 'cpu.load_pct', unit: 'percent', value: 10 }]
    for (let i = 0; i < 40; i++) metrics.push({ name: 'proc.rss_bytes', unit: 'bytes', value: i, labels: { name: `random-${seq}-${i}` } })
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${a.token}` }, payload: { reports: [makeReport(a.agentId, seq, { metrics })] } })
    t.equal(r.statusCode, 200, `report ${seq} is still accepted`)
  }
  const n = (h.app.db.prepare('SELECT COUNT(*) AS n FROM series WHERE machine_id = ?').get(a.agentId) as { n: number }).n
  t.equal(n, 50, 'the store keeps at most 50 series for the machine')
  t.ok((await h.app.detection.exportMachine(a.agentId) as { series: unknown[] }).series.length <= 50, 'the detector keeps state for at most 50 series')
  t.equal(h.app.registry.countStoredReports(a.agentId), 10, 'every report is still stored')
})
