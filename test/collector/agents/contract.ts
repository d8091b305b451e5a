/**
 * What any AgentRepository must do, whatever keeps it (collector/agents/repository.ts).
 * Each store runs this suite with a fresh, empty repository: `make` builds one,
 * `close` releases it. Hashes stand for tokens: the store never sees a value.
 */
import type { Test } from 'tap'
import type { AgentRepository, EnrollRequest } from '../../../collector/agents/repository.js'

export interface AgentRepositoryUnderTest { store: AgentRepository, close: () => Promise<void> }

const T0 = Date.parse('2026-06-01T00:00:00Z')
const LAPTOP = { serial: 'SN-1', model: 'X1', manufacturer: 'Lenovo', macs: ['aa:bb:cc:00:00:01'] }

let n = 0
function req (over: Partial<EnrollRequest> = {}): EnrollRequest {
  n++
  return { newId: `m_c${n}`, tokenHash: `hash-${n}`, hostname: `pc-${n}`, atMs: T0 + n, ...over }
}

export function agentRepositoryContract (t: Test, make: () => Promise<AgentRepositoryUnderTest>): void {
  async function fresh (t: Test): Promise<AgentRepository> {
    const u = await make()
    t.teardown(u.close)
    return u.store
  }

  t.test('enrollment: a new agent is active and found by its token hash; listed newest first', async t => {
    const s = await fresh(t)
    const a = await s.enroll(req({ newId: 'm_a', tokenHash: 'ha', hostname: 'pc-a', machineKey: 'key-a', hardware: LAPTOP, atMs: T0 }))
    const b = await s.enroll(req({ newId: 'm_b', tokenHash: 'hb', hostname: 'pc-b', atMs: T0 + 10 }))
    t.same(a, { agentId: 'm_a', status: 'active', reenrolled: false, lastSeq: 0 })
    t.equal(b.agentId, 'm_b')
    t.same(await s.byTokenHash('ha'), { id: 'm_a', hostname: 'pc-a', status: 'active', createdMs: T0 })
    t.equal(await s.byTokenHash('nope'), undefined)
    t.match(await s.get('m_a'), { id: 'm_a', hostname: 'pc-a', createdMs: T0, revokedMs: null, tokenHash: 'ha', status: 'active', hardware: { ...LAPTOP, hostname: 'pc-a' }, identity: null })
    t.same((await s.list(undefined, 10)).map(x => x.id), ['m_b', 'm_a'])
    t.same((await s.list(undefined, 1)).map(x => x.id), ['m_b'], 'bounded by the limit')
    t.equal(await s.isActive('m_a'), true)
    t.equal(await s.countMachines(), 2)
    t.equal(await s.lastSeq('m_a'), 0)
  })

  t.test('a known machine key with its current token re-enrolls the same agent; without it, a new pending agent flagged', async t => {
    const s = await fresh(t)
    await s.enroll(req({ newId: 'm_a', tokenHash: 'ha', hostname: 'pc-a', machineKey: 'key-a', hardware: LAPTOP }))
    t.equal(await s.isReenrollment('key-a', 'ha'), true)
    t.equal(await s.isReenrollment('key-a', 'other'), false)
    const again = await s.enroll(req({ newId: 'm_unused', tokenHash: 'ha2', hostname: 'pc-a2', machineKey: 'key-a', presentedHash: 'ha' }))
    t.same(again, { agentId: 'm_a', status: 'active', reenrolled: true, lastSeq: 0 })
    t.equal(await s.byTokenHash('ha'), undefined, 'the old token is replaced')
    t.match(await s.byTokenHash('ha2'), { id: 'm_a', hostname: 'pc-a2' })
    t.same((await s.get('m_a'))?.hardware, { ...LAPTOP, hostname: 'pc-a' }, 'hardware kept when the re-enrollment gives none')
    t.equal(await s.get('m_unused'), undefined)

    const same = await s.enroll(req({ newId: 'm_reinstall', tokenHash: 'hr', hostname: 'pc-a', machineKey: 'key-a', hardware: LAPTOP }))
    t.same(same, { agentId: 'm_reinstall', status: 'pending', reenrolled: false, lastSeq: 0, identity: { machineKeySharedWith: ['m_a'], hardwareDiffers: false } }, 'same hardware: a reinstall or an impersonation')
    const clone = await s.enroll(req({ newId: 'm_clone', tokenHash: 'hc', hostname: 'pc-z', machineKey: 'key-a', hardware: { ...LAPTOP, serial: 'SN-9', macs: ['aa:bb:cc:00:00:09'] } }))
    t.same(clone.identity, { machineKeySharedWith: ['m_a', 'm_reinstall'], hardwareDiffers: true }, 'different from every machine with the key: a clone')
    t.match(await s.byTokenHash('hc'), { id: 'm_clone', status: 'pending', pending: true })
    t.equal(await s.isActive('m_clone'), false, 'pending is not active')
    t.same((await s.list('pending', 10)).map(x => x.id).sort(), ['m_clone', 'm_reinstall'])
    t.match(await s.get('m_clone'), { identity: { hardwareDiffers: true } })
  })

  t.test('approval, rejection, revocation and its lifting, each once, with the states they allow', async t => {
    const s = await fresh(t)
    await s.enroll(req({ newId: 'm_a', tokenHash: 'ha', machineKey: 'k' }))
    await s.enroll(req({ newId: 'm_p', tokenHash: 'hp', machineKey: 'k' }))
    await s.enroll(req({ newId: 'm_q', tokenHash: 'hq', machineKey: 'k' }))
    t.equal(await s.approve('m_a'), false, 'not pending')
    t.equal(await s.approve('m_p'), true)
    t.equal(await s.isActive('m_p'), true)
    t.equal(await s.approve('m_p'), false, 'once')
    t.equal(await s.reject('m_q', T0 + 100), true)
    t.equal(await s.reject('m_q', T0 + 200), false, 'once')
    t.match(await s.get('m_q'), { status: 'rejected', revokedMs: T0 + 100 })
    t.equal(await s.byTokenHash('hq'), undefined)
    t.equal(await s.revokedByTokenHash('hq'), 'm_q')
    t.equal(await s.unrevoke('m_q'), false, 'a rejection cannot be lifted')
    t.equal(await s.revoke('m_a', T0 + 300), true)
    t.equal(await s.revoke('m_a', T0 + 400), false, 'once')
    t.equal(await s.revoke('m_none', T0), false)
    t.equal(await s.byTokenHash('ha'), undefined)
    t.equal(await s.revokedByTokenHash('ha'), 'm_a')
    t.equal(await s.isActive('m_a'), false)
    t.equal(await s.countMachines(), 1, 'revoked and rejected agents do not count')
    t.equal(await s.isReenrollment('k', 'ha'), false, 'a revoked agent cannot re-enroll itself')
    t.equal(await s.unrevoke('m_a'), true)
    t.equal(await s.unrevoke('m_a'), false, 'not revoked any more')
    t.match(await s.byTokenHash('ha'), { id: 'm_a', status: 'active' }, 'its token works again')
  })

  t.test('rotation: new hash current, the old one a grace token until its expiry, state reset; none for a revoked agent', async t => {
    const s = await fresh(t)
    await s.enroll(req({ newId: 'm_a', tokenHash: 'h1', atMs: T0 }))
    t.equal(await s.tokenState('m_a'), undefined, 'nothing recorded before a rotation')
    t.equal(await s.requestRotation('m_a', T0 + 10, T0 + 1000), true)
    t.same(await s.tokenState('m_a'), { issuedMs: T0, rotateDueMs: T0 + 10, deadlineMs: T0 + 1000, dueTokenHash: 'h1' }, 'issued at enrollment, due now, the current token named')
    t.same(await s.rotateToken('m_a', 'h2', T0 + 20, T0 + 500), { previousHash: 'h1' })
    t.match(await s.byTokenHash('h2'), { id: 'm_a' })
    t.equal(await s.byTokenHash('h1'), undefined)
    t.equal(await s.byGraceHash('h1', T0 + 499), 'm_a', 'in its grace period')
    t.equal(await s.byGraceHash('h1', T0 + 500), undefined, 'expired at its end')
    t.same(await s.tokenState('m_a'), { issuedMs: T0 + 20, rotateDueMs: null, deadlineMs: null, dueTokenHash: null })
    t.same(await s.rotateToken('m_a', 'h3', T0 + 30, null), { previousHash: 'h2' })
    t.equal(await s.byGraceHash('h2', T0 + 31), undefined, 'no grace asked: none kept')
    t.equal(await s.pruneGraceTokens(T0 + 500), 1)
    t.equal(await s.pruneGraceTokens(T0 + 500), 0)

    await s.rotateToken('m_a', 'h4', T0 + 40, T0 + 5000)
    t.equal(await s.revoke('m_a', T0 + 41), true)
    t.equal(await s.byGraceHash('h3', T0 + 42), undefined, 'revocation takes the grace tokens too')
    t.equal(await s.rotateToken('m_a', 'h5', T0 + 50, null), undefined, 'a revoked agent gets no new token')
    t.equal(await s.requestRotation('m_a', T0 + 50, null), false)
    t.equal(await s.requestRotation('m_none', T0 + 50, null), false)
  })

  t.test('a grace token of an agent pending or rejected is not honoured', async t => {
    const s = await fresh(t)
    await s.enroll(req({ newId: 'm_a', tokenHash: 'h1', machineKey: 'k' }))
    await s.enroll(req({ newId: 'm_p', tokenHash: 'p1', machineKey: 'k' }))
    await s.rotateToken('m_p', 'p2', T0, T0 + 1000)
    t.equal(await s.byGraceHash('p1', T0 + 1), undefined, 'pending')
    t.equal(await s.approve('m_p'), true)
    t.equal(await s.byGraceHash('p1', T0 + 1), 'm_p', 'once approved')
  })
}
