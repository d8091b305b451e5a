/**
 * TLS end to end: a collector serving HTTPS/WSS with a certificate from a CA
 * generated here; a real agent given that CA reaches it; one without the CA
 * fails with a clear certificate error; session cookies are Secure.
 */
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import { tempDir } from '../helpers/temp.js'
import { spawnAgent } from '../helpers/processes.js'
import { httpsJson, makeTestCa, spawnTlsCollector } from '../helpers/tls.js'
import { waitFor } from '../helpers/wait.js'
import { loadTls } from '../../collector/core/tls.js'

const ENROLL = 'tls-test-enroll-token-0123456789'

t.test('a real agent with the CA reaches the TLS collector; without it, it fails with a certificate error', async t => {
  const dir = tempDir(t, 'vigie-ca-')
  const dataDir = tempDir(t)
  const okState = tempDir(t, 'vigie-agent-')
  const badState = tempDir(t, 'vigie-agent-')
  const ca = makeTestCa(dir)
  const caPem = fs.readFileSync(ca.caFile)
  const collector = await spawnTlsCollector({ dataDir, ca, env: { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_REPORT_INTERVAL: '1' } })
  t.teardown(() => collector.stop())
  t.match(collector.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  const adminToken = /(vgt_[A-Za-z0-9_-]{20,})/.exec(collector.output())?.[1]
  t.ok(adminToken, 'first start prints the admin token')

  const good = spawnAgent({ url: collector.url, stateDir: okState, enrollToken: ENROLL, intervalSec: 1, env: { VIGIE_AGENT_CA_FILE: ca.caFile } })
  t.teardown(() => good.stop())
  const machine = await waitFor(async () => {
    const r = await httpsJson(`${collector.url}/api/v1/machines`, { ca: caPem, token: adminToken })
    return r.body.items?.find((m: { hostname: string }) => m.hostname === os.hostname())
  }, { timeoutMs: 40_000, what: 'the agent with the CA to report over TLS' })
  t.ok(machine, 'the agent enrolled and reported over https')

  const bad = spawnAgent({ url: collector.url, stateDir: badState, enrollToken: ENROLL, intervalSec: 1 })
  t.teardown(() => bad.stop())
  const line = await waitFor(() => bad.output().split('\n').find(l => /certificate|self[- ]signed|unable to verify/i.test(l)), { timeoutMs: 30_000, what: 'a certificate error from the agent without the CA' })
  t.match(line, /enrollment failed|certificate/i)
  t.comment(`agent without the CA says: ${line.slice(0, 300)}`)
  t.notOk(fs.existsSync(`${badState}/state.json`), 'it never enrolled')

  // Plain HTTP to the TLS port is not served.
  await t.rejects(fetch(collector.url.replace('https:', 'http:') + '/healthz'), 'no plain-HTTP service on the TLS port')

  // Browser sessions over https get Secure cookies.
  const created = await httpsJson(`${collector.url}/api/v1/admin/users`, { ca: caPem, method: 'POST', token: adminToken, body: { username: 'tls-admin', role: 'admin' } })
  t.equal(created.status, 201)
  const login = await httpsJson(`${collector.url}/api/v1/auth/login`, { ca: caPem, method: 'POST', body: { username: 'tls-admin', password: created.body.password } })
  t.equal(login.status, 200)
  const cookies = login.headers['set-cookie'] as string[]
  t.ok(cookies.length === 2 && cookies.every(c => /; Secure/.test(c) && /SameSite=Strict/.test(c)), 'session and CSRF cookies are Secure over https')
})

t.test('bad TLS files fail start-up naming the variable', async t => {
  const dir = tempDir(t, 'vigie-ca-')
  const ca = makeTestCa(dir)
  t.throws(() => loadTls({ tlsCert: `${dir}/missing.pem`, tlsKey: ca.keyFile }), { code: 'VIGIE_ERR_CONFIG', message: /VIGIE_TLS_CERT=.*missing\.pem.*ENOENT/ })
  t.throws(() => loadTls({ tlsCert: ca.certFile, tlsKey: `${dir}/ca.key` }), { code: 'VIGIE_ERR_CONFIG', message: /VIGIE_TLS_CERT \/ VIGIE_TLS_KEY/ }, 'a key that does not match the certificate')
  t.ok(loadTls({ tlsCert: ca.certFile, tlsKey: ca.keyFile }))
  const { loadCollectorConfig } = await import('../../collector/core/config.js')
  t.throws(() => loadCollectorConfig({}, { VIGIE_TLS_CERT: ca.certFile }), { message: /go together/ })
})
