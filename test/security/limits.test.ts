/**
 * Issue 14, "limits that hold": the sign-in limit is charged before the password
 * hash, a flood slows guesses without locking the real user out, and the
 * per-address limit is skipped only for a verified agent token.
 */
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { addUser, closeSettled } from './helpers.js'

const PW = 'correct horse battery'

function loginFrom (app: Awaited<ReturnType<typeof testApp>>['app'], username: string, password: string, ip: string) {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password }, remoteAddress: ip })
}

t.test('120 parallel wrong guesses: at most the limit are evaluated, the rest get 429 before any hash', async t => {
  let now = Date.UTC(2026, 0, 5, 9)
  const h = await testApp({ now: () => now, config: { loginAttemptsPer15Min: 10 } })
  t.teardown(async () => { await closeSettled(h) })
  await addUser(h.app, 'alice', PW, 'admin')
  const guesses = await Promise.all(Array.from({ length: 120 }, (_, i) =>
    loginFrom(h.app, 'alice', `wrong-guess-number-${i}`, `10.66.${i >> 8}.${i & 255}`)))
  const evaluated = guesses.filter(r => r.statusCode === 401).length
  const throttled = guesses.filter(r => r.statusCode === 429)
  t.equal(evaluated, 10, 'exactly the per-username limit reached the password check')
  t.equal(throttled.length, 110, 'every other guess was refused with 429')
  t.equal(h.app.counters.get('auth_failures'), 10, 'the password hash ran for 10 guesses only')
  t.equal(throttled[0].json().code, 'VIGIE_ERR_RATE_LIMITED')
  t.ok(Number(throttled[0].headers['retry-after']) >= 1)

  // The flood stops. The real user, from another address, with the right password:
  // the username's bucket gives one attempt back every 15 min / 10 = 90 s.
  now += 89_000
  const early = await loginFrom(h.app, 'alice', PW, '192.0.2.10')
  t.equal(early.statusCode, 429, 'one second before the documented bound, still throttled')
  t.ok(Number(early.headers['retry-after']) <= 1, `Retry-After ${early.headers['retry-after']} s tells the user how long`)
  now += 1_000
  const inTime = await loginFrom(h.app, 'alice', PW, '192.0.2.10')
  t.equal(inTime.statusCode, 200, 'the real user signs in 90 s after the flood (documented bound), not 15+ minutes')
})

t.test('a flood from elsewhere does not keep the user out of an address they signed in from', async t => {
  const now = Date.UTC(2026, 0, 5, 9)
  const h = await testApp({ now: () => now, config: { loginAttemptsPer15Min: 10 } })
  t.teardown(async () => { await closeSettled(h) })
  await addUser(h.app, 'bob', PW, 'technician')
  t.equal((await loginFrom(h.app, 'bob', PW, '192.0.2.20')).statusCode, 200, 'bob signs in from his office')
  const flood = await Promise.all(Array.from({ length: 60 }, (_, i) => loginFrom(h.app, 'bob', `guess-${i}-xxxxxx`, `10.77.0.${i}`)))
  t.ok(flood.filter(r => r.statusCode === 429).length >= 50, 'the flood is throttled')
  t.equal((await loginFrom(h.app, 'bob', PW, '192.0.2.20')).statusCode, 200, 'bob still signs in from his office during the flood, at once')
  const fromOffice = await Promise.all(Array.from({ length: 12 }, (_, i) => loginFrom(h.app, 'bob', `guess-office-${i}`, '192.0.2.20')))
  t.equal(fromOffice.filter(r => r.statusCode === 401).length, 10, 'a known address is itself throttled to the limit')
})

t.test('per address, sign-in is strict: 3× the per-username limit, then 429, whatever the usernames', async t => {
  const h = await testApp({ config: { loginAttemptsPer15Min: 4 } })
  t.teardown(async () => { await closeSettled(h) })
  const codes: number[] = []
  for (let i = 0; i < 12; i++) codes.push((await loginFrom(h.app, `user${i}`, 'not-the-password', '10.0.0.9')).statusCode)
  t.same(codes, Array(12).fill(401), 'at the bound (12 = 3 × 4), every attempt is evaluated')
  const over = await loginFrom(h.app, 'user12', 'not-the-password', '10.0.0.9')
  t.equal(over.statusCode, 429, 'one over the bound is refused')
  t.equal(over.json().code, 'VIGIE_ERR_RATE_LIMITED')
  t.match(over.json().message, /sign-in attempts from this address/)
  t.ok(Number(over.headers['retry-after']) > 0)
  t.equal((await loginFrom(h.app, 'user13', 'not-the-password', '10.0.0.10')).statusCode, 401, 'another address is not affected')
})

t.test('a bogus vga_ bearer does not skip the per-address limit; a verified agent token does', async t => {
  // rateLimitIpPerMin 60 → 10 requests per 10 s window per address
  const h = await testApp({ config: { rateLimitIpPerMin: 60, rateLimitAgentPerMin: 0 } })
  t.teardown(async () => { await closeSettled(h) })
  const run = async (ip: string, headers: Record<string, string>, n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await h.app.inject({ url: '/healthz', remoteAddress: ip, headers })).statusCode)
    return out
  }
  const anonymous = await run('10.5.0.1', {}, 11)
  const bogus = await run('10.5.0.2', { authorization: 'Bearer vga_not-a-real-token-0000000000000000' }, 11)
  t.same(anonymous, [...Array(10).fill(200), 429], 'anonymous: 10 pass, the 11th is limited')
  t.same(bogus, anonymous, 'a bogus vga_ bearer is limited exactly like anonymous requests')

  const agent = await h.enroll('pc-nat')
  let refused = 0
  for (let i = 0; i < 30; i++) {
    const r = await h.app.inject({ method: 'POST', url: '/api/v1/agent/rotate', remoteAddress: '10.5.0.3', headers: { authorization: `Bearer ${agent.token}` } })
    if (r.statusCode === 429) refused++
    if (r.statusCode === 200) agent.token = r.json().agentToken
  }
  t.equal(refused, 0, 'a verified agent is not limited per address (only per agent)')
})
