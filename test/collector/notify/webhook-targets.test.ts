/**
 * Webhook targets: loopback, private, link-local, multicast and metadata
 * addresses are refused by default, on creation and again before every
 * delivery (each resolved address: DNS rebinding), no redirect is followed, the
 * delivery log is coarse, credentials in the URL are used but never shown.
 * Nothing here sends a packet beyond 127.0.0.1: names resolve through a fake
 * resolver, and a tripwire fails any connection attempt before it reaches the
 * kernel, so a broken guard shows up as a recorded attempt, not as traffic.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { openDb, type Db } from '../../../collector/store/sqlite/db.js'
import { WebhookNotifier } from '../../../collector/notify/webhooks.js'
import { SqliteWebhookStore } from '../../../collector/notify/sqlite-store.js'
import { forbiddenRange, redactWebhookUrl, type ResolvedAddress } from '../../../collector/notify/target-guard.js'
import { loadCollectorConfig } from '../../../collector/core/config.js'
import { blockConnects } from '../../helpers/no-connect.js'
import { tempDir } from '../../helpers/temp.js'

function tempDb (t: { teardown: (fn: () => void) => void }): Db {
  const dir = tempDir(t, 'vigie-whguard-')
  const db = openDb(path.join(dir, 'vigie.db'))
  t.teardown(() => { db.close() })
  return db
}

/** A resolver that answers from a table (in turn, when a name has several answers) and sends nothing. */
function fakeResolver (table: Record<string, string[][]>): { resolve: (h: string) => Promise<ResolvedAddress[]>, calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    resolve: async (host) => {
      calls.push(host)
      const answers = table[host]
      if (answers === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
      const a = answers.length > 1 ? answers.shift()! : answers[0]
      return a.map(address => ({ address, family: address.includes(':') ? 6 : 4 }))
    }
  }
}

function queue (db: Db, webhookId: string, n = 1): void {
  for (let i = 0; i < n; i++) {
    db.prepare('INSERT INTO webhook_outbox (webhook_id, event_id, event_type, body, created_ms, next_ms) VALUES (?, ?, ?, ?, ?, ?)')
      .run(webhookId, `evt_${i}_${Math.random()}`, 'incident.opened', '{"type":"incident.opened"}', Date.now(), 0)
  }
}

async function listen (handler: (req: { url?: string, headers: IncomingHttpHeaders }, res: { writeHead: (s: number, h?: Record<string, string>) => { end: () => void } }) => void): Promise<{ server: Server, port: number, seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = []
  const server = createServer((req, res) => { seen.push(req.headers); req.resume(); req.on('end', () => { handler(req, res) }) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, seen }
}

t.test('refused ranges: loopback, private, CGNAT, link-local, metadata, ULA, multicast, unspecified, mapped forms', async t => {
  for (const ip of ['127.0.0.1', '127.9.9.9', '10.0.0.5', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '169.254.169.254', '169.254.1.1',
    '0.0.0.0', '224.0.0.251', '255.255.255.255', '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'ff02::1',
    '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a00:5', '2002:0a00:0005::1']) {
    t.ok(forbiddenRange(ip) !== undefined, `${ip} refused (${forbiddenRange(ip) ?? 'allowed!'})`)
  }
  t.equal(forbiddenRange('169.254.169.254'), 'cloud metadata')
  t.equal(forbiddenRange('fd00:ec2::254'), 'cloud metadata')
  for (const ip of ['203.0.113.7', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:db8::1']) t.equal(forbiddenRange(ip), undefined, `${ip} is a public-looking address`)
})

t.test('creation refuses literal and resolved targets in refused ranges, before storing anything', async t => {
  const db = tempDb(t)
  const dns = fakeResolver({ 'internal.example': [['10.0.0.5']], 'meta.example': [['169.254.169.254']], 'mixed.example': [['203.0.113.7', '10.0.0.5']], 'hooks.example': [['203.0.113.7']] })
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { resolve: dns.resolve })
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  for (const url of ['http://127.0.0.1:8080/x', 'http://[::1]/x', 'http://localhost/x', 'http://sub.localhost/x', 'http://2130706433/x', 'http://0x7f.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[fd00:ec2::254]/x', 'http://10.1.2.3/x', 'http://[::ffff:192.168.0.1]/x', 'http://0.0.0.0/x']) {
    await t.rejects(n.create({ url }, 'test'), { code: 'VIGIE_ERR_WEBHOOK_TARGET', statusCode: 400 }, `${url} refused at once`)
    await t.rejects(n.checkTarget(url), { code: 'VIGIE_ERR_WEBHOOK_TARGET' }, `${url} refused by the route's check`)
  }
  await t.rejects(n.checkTarget('https://internal.example/x'), { code: 'VIGIE_ERR_WEBHOOK_TARGET', message: /private/ }, 'a name resolving to 10.0.0.5')
  await t.rejects(n.checkTarget('https://meta.example/x'), { code: 'VIGIE_ERR_WEBHOOK_TARGET', message: /cloud metadata/ })
  await t.rejects(n.checkTarget('https://mixed.example/x'), { code: 'VIGIE_ERR_WEBHOOK_TARGET' }, 'one refused address among several refuses the name')
  await t.resolves(n.checkTarget('https://hooks.example/x'))
  t.same(await n.list(), [], 'nothing stored')
  t.same(wire.attempts, [], 'no socket opened')

  const allowed = new WebhookNotifier(new SqliteWebhookStore(db), { resolve: dns.resolve, allow: ['10.0.0.0/8', 'meta.example', '::1'] })
  await t.resolves(allowed.checkTarget('https://internal.example/x'), 'allow-listed CIDR')
  await t.resolves(allowed.checkTarget('https://meta.example/x'), 'allow-listed name')
  t.ok((await allowed.create({ url: 'http://10.1.2.3/x' }, 'test')).id)
  t.ok((await allowed.create({ url: 'http://[::1]:9/x' }, 'test')).id)
  await t.rejects(allowed.create({ url: 'http://127.0.0.1/x' }, 'test'), { code: 'VIGIE_ERR_WEBHOOK_TARGET' }, 'only what is listed')
})

t.test('delivery checks every resolved address before connecting: a name that now points inside is refused, no socket opened', async t => {
  const db = tempDb(t)
  const dns = fakeResolver({ 'hooks.example': [['203.0.113.7'], ['10.0.0.5']], 'meta.example': [['169.254.169.254']] })
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { resolve: dns.resolve })
  const wh = await n.create({ url: 'https://hooks.example/x' }, 'test')
  await n.checkTarget('https://hooks.example/x') // validation: 203.0.113.7
  queue(db, wh.id)
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  await n.run()
  t.same(wire.attempts, [], 'refused before any connection')
  const d = (await n.deliveries(wh.id))[0]
  t.equal(d.state, 'pending')
  t.match(d.lastError, /^refused: target address not allowed \(private\)/)
  t.same(dns.calls, ['hooks.example', 'hooks.example'], 'resolved again at delivery')
})

t.test('DNS rebinding: public at validation, 127.0.0.1 at connect time → refused; the loopback receiver sees nothing', async t => {
  const db = tempDb(t)
  const rx = await listen((_req, res) => { res.writeHead(204).end() })
  t.teardown(() => { rx.server.close() })
  const dns = fakeResolver({ 'rebind.example': [['203.0.113.9'], ['127.0.0.1']] })
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { resolve: dns.resolve })
  const url = `http://rebind.example:${rx.port}/hook`
  await n.checkTarget(url)
  const wh = await n.create({ url }, 'test')
  queue(db, wh.id)
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  await n.run()
  t.same(wire.attempts, [], 'no connection attempted, to 203.0.113.9 or to 127.0.0.1')
  t.equal(rx.seen.length, 0)
  t.match((await n.deliveries(wh.id))[0].lastError, /^refused: target address not allowed \(loopback\)/)
})

t.test('allow-listed loopback delivers; credentials in the URL are sent and never shown; no redirect followed', async t => {
  const db = tempDb(t)
  const other = await listen((_req, res) => { res.writeHead(204).end() })
  t.teardown(() => { other.server.close() })
  let answer = 204
  const rx = await listen((_req, res) => { res.writeHead(answer, answer === 302 ? { location: `http://127.0.0.1:${other.port}/elsewhere` } : {}).end() })
  t.teardown(() => { rx.server.close() })
  const logs: Array<Record<string, unknown>> = []
  const log = { warn: (o: object) => { logs.push({ ...o }) }, info: (o: object) => { logs.push({ ...o }) } }
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { allow: ['127.0.0.1/32'], log, retryMs: 10 })
  const wh = await n.create({ url: `http://hook-user:s3cr%40t@127.0.0.1:${rx.port}/hook?token=abc&site=paris` }, 'test')
  t.equal(wh.url, `http://***@127.0.0.1:${rx.port}/hook?token=***&site=paris`, 'the creation answer redacts')
  t.equal((await n.list())[0].url, wh.url, 'listings redact')
  t.notMatch(JSON.stringify(await n.list()), /s3cr|hook-user|abc/)
  queue(db, wh.id)
  await n.run()
  t.equal((await n.deliveries(wh.id))[0].state, 'delivered')
  t.equal(rx.seen[0].authorization, 'Basic ' + Buffer.from('hook-user:s3cr@t').toString('base64'), 'credentials used')

  answer = 302
  queue(db, wh.id)
  await n.run()
  const d = (await n.deliveries(wh.id))[0]
  t.equal(d.state, 'pending', 'a 3xx is a failed delivery')
  t.equal(d.lastError, 'HTTP 302 (redirects are not followed)')
  t.equal(other.seen.length, 0, 'the redirect target got nothing')
  t.notMatch(JSON.stringify(logs), /s3cr|hook-user/, 'no credentials in logs')
  t.equal(redactWebhookUrl('https://only-a-token@hooks.example/x'), 'https://***@hooks.example/x')
})

t.test('the delivery log does not tell a closed port from a silent one', async t => {
  const db = tempDb(t)
  const hang = createServer(() => { /* never answers */ })
  await new Promise<void>(resolve => hang.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { hang.closeAllConnections(); hang.close() })
  const closed = await new Promise<number>(resolve => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => { resolve(p) }) }) })
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { allow: ['127.0.0.1'], timeoutMs: 300 })
  const a = await n.create({ url: `http://127.0.0.1:${closed}/x` }, 'test')
  const b = await n.create({ url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}/x` }, 'test')
  queue(db, a.id)
  queue(db, b.id)
  const started = Date.now()
  await n.run()
  t.ok(Date.now() - started < 3000, 'bounded by the timeout')
  const [da, db2] = [(await n.deliveries(a.id))[0], (await n.deliveries(b.id))[0]]
  t.equal(da.lastError, 'no HTTP response (connection failed or timed out)')
  t.equal(db2.lastError, da.lastError, 'closed and filtered read the same')
})

t.test('VIGIE_WEBHOOK_ALLOW is validated and empty by default', async t => {
  t.same(loadCollectorConfig({}, {}).webhookAllow, [])
  t.same(loadCollectorConfig({}, { VIGIE_WEBHOOK_ALLOW: '127.0.0.1/32, 10.0.0.0/8,fd00::/8,Hooks.Internal,*.corp.example' }).webhookAllow, ['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8', 'hooks.internal', '*.corp.example'])
  t.throws(() => loadCollectorConfig({}, { VIGIE_WEBHOOK_ALLOW: '10.0.0.0/33' }), { code: 'VIGIE_ERR_CONFIG', message: /VIGIE_WEBHOOK_ALLOW.*prefix length must be 0 to 32/ })
  t.throws(() => loadCollectorConfig({}, { VIGIE_WEBHOOK_ALLOW: 'http://x/' }), { code: 'VIGIE_ERR_CONFIG', message: /expected CIDRs/ })
})
