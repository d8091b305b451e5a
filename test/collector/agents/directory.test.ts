/**
 * The agent directory's caches: a known agent is answered without a store lookup,
 * and every change made through the directory is seen by the next request at once.
 */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { Registry } from '../../../collector/store/sqlite/registry.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { SqliteAgentStore } from '../../../collector/agents/sqlite-store.js'
import { AgentDirectory } from '../../../collector/agents/directory.js'
import type { AgentRepository } from '../../../collector/agents/repository.js'
import { tempDir } from '../../helpers/temp.js'

const T0 = Date.parse('2026-06-01T00:00:00Z')
const DAY = 86_400_000

/** A directory over a real SQLite store, counting the store calls made. */
function setup (t: Parameters<typeof tempDir>[0]): { dir: AgentDirectory, calls: Map<string, number> } {
  const db = openDb(path.join(tempDir(t), 'vigie.db'))
  t.teardown(() => { db.close() })
  void new Registry(db, new SqliteMetricStore(db))
  const store = new SqliteAgentStore(db)
  const calls = new Map<string, number>()
  const counted = new Proxy(store, {
    get (target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => { calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1); return (v as (...a: unknown[]) => unknown).apply(target, args) }
    }
  }) as AgentRepository
  return { dir: new AgentDirectory(counted), calls }
}

t.test('a known agent is answered from the cache; an unknown one only after a lookup', async t => {
  const { dir, calls } = setup(t)
  const a = await dir.enroll({ hostname: 'pc-a' }, T0)
  t.equal(dir.authenticateCached(a.token, T0), undefined, 'not known before its first request')
  t.equal(dir.isActive(a.agentId), false)
  t.same(await dir.authenticate(a.token, T0), { id: a.agentId, hostname: 'pc-a' })
  const lookups = calls.get('byTokenHash')
  t.same(dir.authenticateCached(a.token, T0 + 1), { id: a.agentId, hostname: 'pc-a' })
  t.same(await dir.authenticate(a.token, T0 + 2), { id: a.agentId, hostname: 'pc-a' })
  t.equal(calls.get('byTokenHash'), lookups, 'no store lookup once known')
  t.equal(dir.isActive(a.agentId), true)
  await t.rejects(dir.authenticate('vga_unknown', T0), { code: 'VIGIE_ERR_UNAUTHORIZED' })
  t.equal(dir.authenticateCached('vga_unknown', T0), undefined)
})

t.test('revocation, rejection and re-enrollment are seen by the very next request', async t => {
  const { dir } = setup(t)
  const a = await dir.enroll({ hostname: 'pc-a', machineKey: 'key-a' }, T0)
  await dir.authenticate(a.token, T0)
  t.equal(await dir.revoke(a.agentId, T0 + 1), true)
  t.equal(dir.authenticateCached(a.token, T0 + 2), undefined)
  t.equal(dir.isActive(a.agentId), false, 'its open streams are refused at their next frame')
  await t.rejects(dir.authenticate(a.token, T0 + 2), { code: 'VIGIE_ERR_AGENT_REVOKED' })
  t.equal(await dir.unrevoke(a.agentId), true)
  t.same(await dir.authenticate(a.token, T0 + 3), { id: a.agentId, hostname: 'pc-a' })

  const again = await dir.enroll({ hostname: 'pc-a', machineKey: 'key-a', agentToken: a.token }, T0 + 4)
  t.equal(again.agentId, a.agentId)
  t.equal(dir.authenticateCached(a.token, T0 + 5), undefined, 'the replaced token is not answered from the cache')
  await t.rejects(dir.authenticate(a.token, T0 + 5), { code: 'VIGIE_ERR_UNAUTHORIZED' })
  t.match(await dir.authenticate(again.token, T0 + 5), { id: a.agentId })

  const p = await dir.enroll({ hostname: 'pc-clone', machineKey: 'key-a' }, T0 + 6)
  t.equal(p.status, 'pending')
  await t.rejects(dir.authenticate(p.token, T0 + 7), { code: 'VIGIE_ERR_AGENT_PENDING' })
  t.equal(dir.authenticateCached(p.token, T0 + 7), undefined, 'pending is never answered from the cache')
  t.equal(await dir.approve(p.agentId), true)
  t.match(await dir.authenticate(p.token, T0 + 8), { id: p.agentId })
  t.equal(dir.authenticateCached(p.token, T0 + 8)?.pending, undefined, 'approved: no pending flag left in the cache')
})

t.test('rotation: due by age or on request, the old token in grace, a deadline ends the token that was due', async t => {
  const { dir } = setup(t)
  const a = await dir.enroll({ hostname: 'pc-a' }, T0)
  await dir.authenticate(a.token, T0)
  t.equal(dir.rotationDue(a.agentId, 30 * DAY, T0 + 29 * DAY), false)
  t.equal(dir.rotationDue(a.agentId, 30 * DAY, T0 + 30 * DAY), true, 'older than the maximum age')
  t.equal(dir.rotationDue(a.agentId, 0, T0 + 3650 * DAY), false, '0: never by age')

  t.equal(await dir.requestRotation(a.agentId, T0 + 2000, T0 + 1000), true)
  await dir.authenticate(a.token, T0 + 1)
  t.equal(dir.rotationDue(a.agentId, 0, T0 + 1), true, 'asked by an admin')
  t.match(dir.authenticateCached(a.token, T0 + 1999), { id: a.agentId }, 'before the deadline the token works')
  t.equal(dir.authenticateCached(a.token, T0 + 2000), undefined, 'at the deadline the cache does not answer')
  await t.rejects(dir.authenticate(a.token, T0 + 2000), { code: 'VIGIE_ERR_UNAUTHORIZED' }, 'and the token is refused')

  const r = await dir.rotate(a.agentId, 60_000, T0 + 3000)
  t.ok(r)
  t.equal(r!.previousValidUntilMs, T0 + 63_000)
  t.match(await dir.authenticate(r!.token, T0 + 3001), { id: a.agentId })
  t.equal(dir.rotationDue(a.agentId, 30 * DAY, T0 + 3001), false, 'a fresh token is not due')
  t.match(await dir.authenticate(a.token, T0 + 62_999), { id: a.agentId }, 'the old token in its grace period')
  await t.rejects(dir.authenticate(a.token, T0 + 63_000), { code: 'VIGIE_ERR_UNAUTHORIZED' }, 'then dead')
  t.equal(await dir.revoke(a.agentId, T0 + 4000), true)
  t.equal(await dir.rotate(a.agentId, 0, T0 + 4001), undefined, 'no rotation once revoked')
})
