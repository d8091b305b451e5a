/**
 * Agent identity on the collector (issue 14, "Identity takeover", "Revocation
 * does not stick", enrollment budgets): a machine key alone never gives an
 * existing machine's id; revocation survives enrollment; pending machines are
 * refused until an admin approves them; the machine cap and the enrollment rate
 * limits hold at their bounds.
 */
import t from 'tap'
import { testApp, type TestApp } from '../helpers/app.js'
import { makeReport } from '../helpers/reports.js'

type Json = Record<string, any>

async function enroll (h: TestApp, body: Json, opts: { bearer?: string, ip?: string } = {}): Promise<{ status: number, body: Json, headers: Record<string, unknown> }> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/enroll',
    ...(opts.ip !== undefined ? { remoteAddress: opts.ip } : {}),
    headers: opts.bearer !== undefined ? { authorization: `Bearer ${opts.bearer}` } : {},
    payload: { enrollToken: h.enrollToken, hostname: 'pc-victim', agentVersion: '1', ...body }
  })
  return { status: res.statusCode, body: res.json(), headers: res.headers }
}

async function send (h: TestApp, token: string, agentId: string, seqs: number[]): Promise<{ status: number, body: Json }> {
  const res = await h.app.inject({
    method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` },
    payload: { reports: seqs.map(s => makeReport(agentId, s, { atMs: Date.now() - (100 - s) * 1000 })) }
  })
  return { status: res.statusCode, body: res.json() }
}

const admin = (h: TestApp, method: 'GET' | 'POST', url: string, token = h.adminToken) =>
  h.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } })

t.test('identity takeover: a known machine key without its agent token gets a new pending id, never the victim\'s', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const victim = await enroll(h, { machineKey: 'etc-machine-id-victim', hardware: { serial: 'SN-1', macs: ['aa:bb:cc:00:00:01'] } })
  t.equal(victim.status, 200)
  t.equal(victim.body.status, 'active')
  t.same((await send(h, victim.body.agentToken, victim.body.agentId, [1, 2, 3])).body.stored, [1, 2, 3])

  // The attacker read /etc/machine-id (world-readable) and has an enrollment token.
  const attacker = await enroll(h, { machineKey: 'etc-machine-id-victim', hardware: { serial: 'SN-1', macs: ['aa:bb:cc:00:00:01'] } })
  t.equal(attacker.status, 200)
  t.not(attacker.body.agentId, victim.body.agentId, 'the attacker does not get the victim\'s id')
  t.equal(attacker.body.status, 'pending', 'it is a new machine pending approval')
  t.equal(attacker.body.lastSeq, 0)
  const forged = await enroll(h, { machineKey: 'etc-machine-id-victim' }, { bearer: 'vga_not-the-victims-token-000000000000' })
  t.not(forged.body.agentId, victim.body.agentId, 'a wrong agent token does not help either')

  // The attacker cannot pre-fill the victim's ledger: its reports are refused with a clear code.
  const own = await send(h, attacker.body.agentToken, attacker.body.agentId, [4, 5])
  t.equal(own.status, 403)
  t.equal(own.body.code, 'VIGIE_ERR_AGENT_PENDING')
  const asVictim = await send(h, attacker.body.agentToken, victim.body.agentId, [4, 5, 6])
  t.equal(asVictim.status, 403)
  // The victim keeps working, and its next reports are stored, not "duplicates".
  const next = await send(h, victim.body.agentToken, victim.body.agentId, [4, 5, 6])
  t.equal(next.status, 200)
  t.same(next.body.stored, [4, 5, 6])
  t.same(next.body.duplicates, [])
  t.equal(h.app.registry.countStoredReports(victim.body.agentId), 6)
  t.equal(h.app.registry.countStoredReports(attacker.body.agentId), 0)

  // The victim re-enrolling with its current token keeps its id and learns the last stored seq.
  const again = await enroll(h, { machineKey: 'etc-machine-id-victim' }, { bearer: victim.body.agentToken })
  t.equal(again.body.agentId, victim.body.agentId)
  t.equal(again.body.lastSeq, 6, 'lastSeq: the agent resumes above it')
  t.equal((await send(h, victim.body.agentToken, victim.body.agentId, [7])).status, 401, 'the old token is retired')
})

t.test('pending machines: listed, approved or rejected by an admin only, each audited; cloned images flagged', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const first = await enroll(h, { hostname: 'pc-image-a', machineKey: 'golden-image-key', hardware: { serial: 'SN-A', macs: ['aa:00:00:00:00:0a'] } })
  const clone = await enroll(h, { hostname: 'pc-image-b', machineKey: 'golden-image-key', hardware: { serial: 'SN-B', macs: ['aa:00:00:00:00:0b'] } })
  const reinstall = await enroll(h, { hostname: 'pc-image-a', machineKey: 'golden-image-key', hardware: { serial: 'SN-A', macs: ['aa:00:00:00:00:0a'] } })
  t.equal(clone.body.status, 'pending')
  t.equal(reinstall.body.status, 'pending')

  t.equal((await admin(h, 'GET', '/api/v1/admin/agents?status=pending', h.viewerToken)).statusCode, 403, 'a viewer cannot list them')
  const list = (await admin(h, 'GET', '/api/v1/admin/agents?status=pending')).json().items as Json[]
  t.same(list.map(a => a.agentId).sort(), [clone.body.agentId, reinstall.body.agentId].sort())
  const c = list.find(a => a.agentId === clone.body.agentId)!
  t.equal(c.hardwareDiffers, true, 'the clone is flagged: other hardware')
  t.same(c.machineKeySharedWith, [first.body.agentId])
  t.match(c.warning, /cloned image/)
  const r = list.find(a => a.agentId === reinstall.body.agentId)!
  t.equal(r.hardwareDiffers, false)
  t.match(r.warning, /without its agent token/)

  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${clone.body.agentId}/approve`, h.viewerToken)).statusCode, 403, 'a viewer cannot approve')
  const ok = await admin(h, 'POST', `/api/v1/admin/agents/${clone.body.agentId}/approve`)
  t.equal(ok.statusCode, 200)
  t.equal(ok.json().status, 'active')
  t.same((await send(h, clone.body.agentToken, clone.body.agentId, [1, 2])).body.stored, [1, 2], 'approved: its reports are stored, as its own machine')
  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${clone.body.agentId}/approve`)).statusCode, 409, 'approving twice is a conflict')

  const rej = await admin(h, 'POST', `/api/v1/admin/agents/${reinstall.body.agentId}/reject`)
  t.equal(rej.statusCode, 200)
  t.equal(rej.json().status, 'rejected')
  t.equal((await send(h, reinstall.body.agentToken, reinstall.body.agentId, [1])).status, 401, 'rejected: its token is dead')
  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${reinstall.body.agentId}/unrevoke`)).statusCode, 409, 'a rejected machine cannot be reinstated')

  const audit = (await admin(h, 'GET', '/api/v1/admin/audit')).json().items as Json[]
  const actions = audit.map(a => `${a.action as string} ${a.target as string}`)
  t.ok(actions.includes(`agent.approve ${clone.body.agentId as string}`), 'approval audited')
  t.ok(actions.includes(`agent.reject ${reinstall.body.agentId as string}`), 'rejection audited')
})

t.test('revocation is sticky: enrollment never lifts it; only an admin does (audited)', async t => {
  const h = await testApp()
  t.teardown(h.close)
  const a = await enroll(h, { machineKey: 'key-revoked' })
  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${a.body.agentId}/revoke`)).statusCode, 200)
  const refused = await send(h, a.body.agentToken, a.body.agentId, [1])
  t.equal(refused.status, 401)
  t.equal(refused.body.code, 'VIGIE_ERR_AGENT_REVOKED', 'the agent is told it was revoked')

  // Enrolling again (with the revoked token, or without) never lifts the revocation.
  const withToken = await enroll(h, { machineKey: 'key-revoked' }, { bearer: a.body.agentToken })
  const without = await enroll(h, { machineKey: 'key-revoked' })
  for (const e of [withToken, without]) {
    t.not(e.body.agentId, a.body.agentId, 'a new machine, not the revoked one')
    t.equal(e.body.status, 'pending')
  }
  t.ok((await h.app.agents.get(a.body.agentId))!.revokedMs !== null, 'still revoked')
  t.equal((await send(h, a.body.agentToken, a.body.agentId, [1])).status, 401)

  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${a.body.agentId}/unrevoke`, h.viewerToken)).statusCode, 403, 'not for a viewer')
  const un = await admin(h, 'POST', `/api/v1/admin/agents/${a.body.agentId}/unrevoke`)
  t.equal(un.statusCode, 200)
  t.equal((await send(h, a.body.agentToken, a.body.agentId, [1])).status, 200, 'reinstated: its token works again')
  t.equal((await admin(h, 'POST', `/api/v1/admin/agents/${a.body.agentId}/unrevoke`)).statusCode, 409, 'not revoked any more')
  const audit = (await admin(h, 'GET', '/api/v1/admin/audit?action=agent.unrevoke')).json().items as Json[]
  t.equal(audit.length, 1)
  t.equal(audit[0].target, a.body.agentId)
})

t.test('machine cap (VIGIE_MAX_MACHINES): at the cap enrolls, one over is refused with a clear code and costs no token use', async t => {
  const h = await testApp({ config: { maxMachines: 3 } })
  t.teardown(h.close)
  const got: Json[] = []
  for (let i = 1; i <= 3; i++) {
    const r = await enroll(h, { hostname: `pc-${i}`, machineKey: `cap-${i}` })
    t.equal(r.status, 200, `machine ${i} of 3`)
    got.push(r.body)
  }
  const once = (await h.app.enrollTokens.create({ name: 'one use', maxUses: 1 })).token
  const over = await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: once, hostname: 'pc-4', agentVersion: '1', machineKey: 'cap-4' } })
  t.equal(over.statusCode, 503)
  t.equal(over.json().code, 'VIGIE_ERR_MACHINE_LIMIT')
  t.match(over.json().message, /maximum of 3 machines/)
  t.ok(Number(over.headers['retry-after']) > 0, 'Retry-After tells the agent when to try again')
  // A re-enrollment of a machine already counted is no new machine.
  const re = await enroll(h, { hostname: 'pc-1', machineKey: 'cap-1' }, { bearer: got[0].agentToken })
  t.equal(re.status, 200)
  t.equal(re.body.agentId, got[0].agentId)
  // Revoking one frees a place, and the refused one-use token was not used up.
  await admin(h, 'POST', `/api/v1/admin/agents/${got[2].agentId as string}/revoke`)
  const after = await h.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollToken: once, hostname: 'pc-4', agentVersion: '1', machineKey: 'cap-4' } })
  t.equal(after.statusCode, 200)
  t.equal(await h.app.agents.countMachines(), 3)
})

t.test('enrollment rate limits: per address and in total, failed attempts count too; at the limit passes, one over gets 429', async t => {
  const h = await testApp({ config: { enrollRatePerAddressPerMin: 5, enrollRatePerMin: 8 } })
  t.teardown(h.close)
  const ip = '10.1.1.1'
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) statuses.push((await enroll(h, { hostname: `pc-${i}` }, { ip })).status)
  statuses.push((await enroll(h, { enrollToken: 'vge_wrong-token-00000000' }, { ip })).status)
  t.same(statuses, [200, 200, 200, 200, 401], 'five requests from one address: all served (one a wrong token)')
  const sixth = await enroll(h, { hostname: 'pc-6' }, { ip })
  t.equal(sixth.status, 429, 'the sixth from that address is refused')
  t.equal(sixth.body.code, 'VIGIE_ERR_RATE_LIMITED')
  t.match(sixth.body.message, /5 enrollments per minute from one address/)
  t.ok(Number(sixth.headers['retry-after']) >= 1)
  // Other addresses still enroll, until the total (8 counted) is reached.
  t.equal((await enroll(h, { hostname: 'pc-b1' }, { ip: '10.1.1.2' })).status, 200)
  t.equal((await enroll(h, { hostname: 'pc-b2' }, { ip: '10.1.1.3' })).status, 200)
  t.equal((await enroll(h, { hostname: 'pc-b3' }, { ip: '10.1.1.4' })).status, 200, 'the 8th counted request overall passes')
  const total = await enroll(h, { hostname: 'pc-b4' }, { ip: '10.1.1.5' })
  t.equal(total.status, 429, 'the 9th overall is refused')
  t.match(total.body.message, /8 enrollments per minute in total/)
  // The collector keeps serving everything else.
  t.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200)
})
