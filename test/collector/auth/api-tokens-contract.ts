/**
 * What any ApiTokenRepository must do, whatever keeps it (collector/auth/api-tokens.ts),
 * checked through the ApiTokens service so the hashing is part of what is proven.
 * Each store runs this suite with a fresh, empty repository.
 */
import type { Test } from 'tap'
import { ApiTokens, type ApiTokenRepository } from '../../../collector/auth/api-tokens.js'
import { hashToken } from '../../../collector/core/secrets.js'

export interface ApiTokenRepositoryUnderTest { store: ApiTokenRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')

export function apiTokenRepositoryContract (t: Test, make: () => Promise<ApiTokenRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<{ store: ApiTokenRepository, tokens: ApiTokens }> {
    const u = await make()
    t.teardown(u.close)
    return { store: u.store, tokens: new ApiTokens(u.store) }
  }

  t.test('a created token is found by its value, with role, name and expiry; the store never holds the value', async t => {
    const { store, tokens } = await fresh(t)
    const a = await tokens.create('technician', 'Tom', T0, T0 + 86_400_000)
    const b = await tokens.create('admin', 'Ada', T0 + 1, null)
    t.match(a.token, /^vgt_/)
    t.not(a.token, b.token)
    t.same(await tokens.find(a.token), { id: a.id, role: 'technician', name: 'Tom', expiresMs: T0 + 86_400_000 })
    t.same(await tokens.find(b.token), { id: b.id, role: 'admin', name: 'Ada', expiresMs: null }, 'no expiry')
    t.equal(await tokens.find('vgt_not-a-token'), undefined)
    t.same(await store.findByHash(hashToken(a.token)), await tokens.find(a.token), 'looked up by hash')
    t.notMatch(JSON.stringify(await store.list()), a.token, 'listings never carry the value')
  })

  t.test('listed newest first; get by id; counted while unrevoked', async t => {
    const { tokens } = await fresh(t)
    const a = await tokens.create('viewer', 'first', T0)
    const b = await tokens.create('viewer', 'second', T0 + 10)
    const c = await tokens.create('viewer', 'third', T0 + 5)
    t.same((await tokens.list()).map(x => x.id), [b.id, c.id, a.id])
    t.same(await tokens.get(c.id), { id: c.id, role: 'viewer', name: 'third', createdMs: T0 + 5, revokedMs: null, expiresMs: null })
    t.equal(await tokens.get('tok_none'), undefined)
    t.equal(await tokens.count(), 3)
  })

  t.test('revocation is at once and once; a revoked token is not found', async t => {
    const { tokens } = await fresh(t)
    const a = await tokens.create('admin', 'Ada', T0)
    t.equal(await tokens.revoke(a.id, T0 + 100), true)
    t.equal(await tokens.revoke(a.id, T0 + 200), false, 'already revoked')
    t.equal(await tokens.revoke('tok_none', T0), false, 'unknown')
    t.equal(await tokens.find(a.token), undefined)
    t.equal((await tokens.get(a.id))?.revokedMs, T0 + 100, 'the first revocation time is kept')
    t.equal(await tokens.count(), 0)
  })

  t.test('an id or a hash already kept is refused', async t => {
    const { store } = await fresh(t)
    await store.insert({ id: 'tok_a', tokenHash: 'h1', role: 'viewer', name: 'a', createdMs: T0, expiresMs: null })
    await t.rejects(store.insert({ id: 'tok_a', tokenHash: 'h2', role: 'viewer', name: 'b', createdMs: T0, expiresMs: null }), 'same id')
    await t.rejects(store.insert({ id: 'tok_b', tokenHash: 'h1', role: 'admin', name: 'c', createdMs: T0, expiresMs: null }), 'same hash')
    t.same(await store.findByHash('h1'), { id: 'tok_a', role: 'viewer', name: 'a', expiresMs: null }, 'the first one stands')
  })
}
