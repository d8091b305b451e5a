/**
 * What any AuditLog must do, whatever keeps it (collector/audit/audit-log.ts).
 * Each store runs this suite with a fresh, empty log: `make` builds one with the
 * given row bound, `close` releases it.
 */
import type { Test } from 'tap'
import type { AuditLog } from '../../../collector/audit/audit-log.js'
import { audit } from '../../../collector/audit/audit.js'

export interface AuditLogUnderTest { log: AuditLog, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

export function auditLogContract (t: Test, make: (opts: { maxRows?: number }) => Promise<AuditLogUnderTest>): void {
  async function fresh (t: Test, opts: { maxRows?: number } = {}): Promise<AuditLog> {
    const u = await make(opts)
    t.teardown(u.close)
    return u.log
  }

  t.test('entries come back newest first, with every field as recorded', async t => {
    const log = await fresh(t)
    log.record(T0, { actor: 'user:alice', action: 'auth.login', ip: '127.0.0.1' })
    log.record(T0 + 1000, { actor: 'user:alice', action: 'incident.resolve', target: 'inc_1', detail: { note: 'fan cleaned', n: 2, nested: { ok: true } } })
    log.record(T0 + 1000, { actor: 'token:t1', action: 'user.create', target: 'u_2' })
    const all = await log.query({})
    t.same(all.map(r => r.action), ['user.create', 'incident.resolve', 'auth.login'], 'by time, then by insertion, newest first')
    t.match(all[1], { actor: 'user:alice', action: 'incident.resolve', target: 'inc_1', atMs: T0 + 1000, detail: { note: 'fan cleaned', n: 2, nested: { ok: true } } })
    t.equal(all[2].ip, '127.0.0.1')
    t.notOk('target' in all[2], 'an absent field stays absent')
    t.ok(all[0].id !== all[1].id && all.every(r => Number.isInteger(r.id)), 'each entry has its own id')
  })

  t.test('filters: actor exact, action exact or by prefix (special characters taken literally), time from inclusive to exclusive', async t => {
    const log = await fresh(t)
    log.record(T0, { actor: 'user:alice', action: 'auth.login' })
    log.record(T0 + 1, { actor: 'user:alice', action: 'auth.login_failed' })
    log.record(T0 + 2, { actor: 'user:bob', action: 'authxlogin' })
    log.record(T0 + 3, { actor: 'user:bob', action: 'token.revoke' })
    log.record(T0 + 4, { actor: 'user:al%', action: 'a_b.c' })
    log.record(T0 + 5, { actor: 'user:x', action: 'axb.c' })
    t.same((await log.query({ actor: 'user:alice' })).map(r => r.atMs), [T0 + 1, T0])
    t.same((await log.query({ actor: 'user:al%' })).map(r => r.action), ['a_b.c'], 'an actor is matched exactly, % included')
    t.same((await log.query({ action: 'auth.login' })).map(r => r.action), ['auth.login'], 'exact action')
    t.same((await log.query({ action: 'auth.' })).map(r => r.action), ['auth.login_failed', 'auth.login'], 'prefix ending in a dot')
    t.same((await log.query({ action: 'auth*' })).map(r => r.action), ['authxlogin', 'auth.login_failed', 'auth.login'], 'prefix ending in *: the * only')
    t.same((await log.query({ action: 'a_b*' })).map(r => r.action), ['a_b.c'], '_ is a character, not a wildcard')
    t.same((await log.query({ fromMs: T0 + 1, toMs: T0 + 3 })).map(r => r.atMs), [T0 + 2, T0 + 1], 'from inclusive, to exclusive')
    t.same(await log.query({ actor: 'user:bob', action: 'auth.' }), [], 'filters combine')
  })

  t.test('the limit is 100 by default and held between 1 and 1000', async t => {
    const log = await fresh(t)
    for (let i = 0; i < 1001; i++) log.record(T0 + i, { actor: 'system', action: 'tick' })
    t.equal((await log.query({})).length, 100, 'default')
    t.equal((await log.query({ limit: 1000 })).length, 1000, 'at the bound')
    t.equal((await log.query({ limit: 1001 })).length, 1000, 'above the bound: the bound')
    t.equal((await log.query({ limit: 0 })).length, 1, 'below 1: one')
    t.equal((await log.query({ limit: 1 }))[0].atMs, T0 + 1000, 'the newest')
  })

  t.test('pruning drops entries older than the retention, then the oldest beyond the row bound', async t => {
    const log = await fresh(t, { maxRows: 8 })
    for (let i = 0; i < 10; i++) log.record(T0 + i * 1000, { actor: 'system', action: `e${i}` })
    t.equal(await log.prune(T0 + 2000), 2, 'e0 and e1 are past the retention; 8 rows are within the bound')
    t.same((await log.query({})).map(r => r.action), ['e9', 'e8', 'e7', 'e6', 'e5', 'e4', 'e3', 'e2'])
    log.record(T0 + 10_000, { actor: 'system', action: 'e10' })
    log.record(T0 + 11_000, { actor: 'system', action: 'e11' })
    t.equal(await log.prune(T0), 2, 'ten rows: the two oldest go')
    t.same((await log.query({})).map(r => r.action), ['e11', 'e10', 'e9', 'e8', 'e7', 'e6', 'e5', 'e4'])
    t.equal(await log.prune(T0), 0, 'nothing more to drop')
  })

  t.test('through audit(): fields bounded, tokens redacted, an over-long detail kept as text, a failing store only logged', async t => {
    const log = await fresh(t)
    const host = { auditLog: log, now: () => T0 }
    audit(host, { actor: 'u'.repeat(300), action: 'a'.repeat(150), target: 't'.repeat(300), ip: '1'.repeat(100), detail: { token: 'vgt_' + 'A'.repeat(43) } })
    audit(host, { actor: 'system', action: 'big', detail: { text: 'x'.repeat(10_000) } })
    const [big, first] = await log.query({})
    t.equal(first.actor.length, 200)
    t.equal(first.action.length, 100)
    t.equal(first.target?.length, 200)
    t.equal(first.ip?.length, 64)
    t.notMatch(JSON.stringify(first.detail), /vgt_A{43}/, 'the token is redacted')
    t.equal(typeof big.detail?.truncated, 'string', 'a detail over 4000 characters of JSON is kept as text')
    t.equal((big.detail?.truncated as string).length, 4000)
    const warnings: string[] = []
    audit({ auditLog: { ...log, record: () => { throw new Error('disk full') } }, now: () => T0, log: { warn: (_o, m) => { warnings.push(m) } } }, { actor: 'system', action: 'x' })
    t.same(warnings, ['audit record failed'], 'the failure is logged, not thrown')
  })
}
