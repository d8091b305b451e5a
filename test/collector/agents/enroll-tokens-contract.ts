/**
 * What any EnrollTokenRepository must do, whatever keeps it (collector/agents/enroll-tokens.ts),
 * checked through the EnrollTokens service so the hashing is part of what is proven.
 * Each store runs this suite with a fresh, empty repository.
 */
import type { Test } from 'tap'
import { EnrollTokens, type EnrollTokenRepository } from '../../../collector/agents/enroll-tokens.js'

export interface EnrollTokenRepositoryUnderTest { store: EnrollTokenRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

export function enrollTokenRepositoryContract (t: Test, make: () => Promise<EnrollTokenRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<{ store: EnrollTokenRepository, tokens: EnrollTokens }> {
    const u = await make()
    t.teardown(u.close)
    return { store: u.store, tokens: new EnrollTokens(u.store) }
  }

  t.test('a token is consumed while valid: uses counted up to the limit, refused once expired or revoked', async t => {
    const { tokens } = await fresh(t)
    const twice = await tokens.create({ name: 'two uses', maxUses: 2 }, T0)
    const hour = await tokens.create({ name: 'one hour', expiresMs: T0 + 3_600_000 }, T0)
    const open = await tokens.create({ name: 'open' }, T0)
    t.match(twice.token, /^vge_/)
    t.equal(await tokens.consume(twice.token, T0 + 1), true)
    t.equal(await tokens.consume(twice.token, T0 + 2), true)
    t.equal(await tokens.consume(twice.token, T0 + 3), false, 'no use left')
    t.equal(await tokens.consume(hour.token, T0 + 3_599_999), true)
    t.equal(await tokens.consume(hour.token, T0 + 3_600_000), false, 'expired at its expiry time')
    t.equal(await tokens.consume('vge_unknown', T0), false)
    t.equal(await tokens.revoke(open.id, T0 + 5), true)
    t.equal(await tokens.revoke(open.id, T0 + 6), false, 'already revoked')
    t.equal(await tokens.revoke('enr_none', T0), false)
    t.equal(await tokens.consume(open.token, T0 + 7), false, 'revoked')
    const listed = new Map((await tokens.list()).map(x => [x.id, x]))
    t.same(listed.get(twice.id), { id: twice.id, name: 'two uses', createdMs: T0, expiresMs: null, maxUses: 2, uses: 2, revokedMs: null }, 'refused uses are not counted')
    t.match(listed.get(hour.id), { uses: 1, expiresMs: T0 + 3_600_000 })
    t.match(listed.get(open.id), { uses: 0, revokedMs: T0 + 5 })
  })

  t.test('concurrent uses of a token with one use left: exactly one succeeds', async t => {
    const { tokens } = await fresh(t)
    const once = await tokens.create({ name: 'once', maxUses: 1 }, T0)
    const results = await Promise.all(Array.from({ length: 8 }, async () => await tokens.consume(once.token, T0 + 1)))
    t.equal(results.filter(Boolean).length, 1)
    t.equal((await tokens.list())[0].uses, 1)
  })

  t.test('listed newest first, never with the value; a value given twice keeps the first token', async t => {
    const { store, tokens } = await fresh(t)
    const a = await tokens.create({ name: 'a' }, T0)
    const b = await tokens.create({ name: 'b' }, T0 + 10)
    const fixed = await tokens.create({ name: 'configured', token: 'vge_fixed-value-0123456789abcdef' }, T0 + 5)
    const again = await tokens.create({ name: 'configured again', token: 'vge_fixed-value-0123456789abcdef' }, T0 + 6)
    t.equal(again.token, fixed.token)
    t.same((await tokens.list()).map(x => x.name), ['b', 'configured', 'a'], 'the second "configured" added nothing')
    t.notMatch(JSON.stringify(await tokens.list()), /vge_/, 'no value in a listing')
    t.equal(await store.insert({ id: 'enr_x', tokenHash: 'h', name: 'x', createdMs: T0, expiresMs: null, maxUses: null }), true)
    t.equal(await store.insert({ id: 'enr_y', tokenHash: 'h', name: 'y', createdMs: T0, expiresMs: null, maxUses: null }), false, 'a hash already kept')
    t.ok(a.id !== b.id)
  })
}
