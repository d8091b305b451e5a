/**
 * Proof for issue 14, webhook targets: checks from
 * test/collector/notify/webhook-targets.test.ts that use only what the old
 * commit has (WebhookNotifier create, list, run, deliveries; the new target
 * guard module is not imported). The old notifier ignores the `allow` option.
 * Nothing here reaches beyond 127.0.0.1: refused targets are literal addresses
 * never delivered to (a tripwire fails any connection before the kernel), and
 * the deliveries go to local servers.
 * Findings: loopback, link-local and private targets accepted; the delivery log
 * worked as a port-scan oracle; credentials in a webhook URL shown in listings.
 */
import fs from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { openDb, type Db } from '../../collector/store/sqlite/db.js'
import { WebhookNotifier } from '../../collector/notify/webhooks.js'
import { SqliteWebhookStore } from '../../collector/notify/sqlite-store.js'
import { blockConnects } from '../helpers/no-connect.js'

function tempDb (t: { teardown: (fn: () => void) => void }): Db {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-whproof-'))
  const db = openDb(path.join(dir, 'vigie.db'))
  t.teardown(() => { db.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  return db
}

function queue (db: Db, webhookId: string): void {
  db.prepare('INSERT INTO webhook_outbox (webhook_id, event_id, event_type, body, created_ms, next_ms) VALUES (?, ?, ?, ?, ?, ?)')
    .run(webhookId, `evt_${Math.random()}`, 'incident.opened', '{"type":"incident.opened"}', Date.now(), 0)
}

async function listen (): Promise<{ server: Server, port: number, seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = []
  const server = createServer((req, res) => { seen.push(req.headers); req.resume(); req.on('end', () => { res.writeHead(204).end() }) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, seen }
}

t.test('by default, loopback, private, link-local and metadata targets are refused at creation', async t => {
  const db = tempDb(t)
  const n = new WebhookNotifier(new SqliteWebhookStore(db))
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  for (const url of ['http://127.0.0.1:8080/x', 'http://[::1]/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://192.168.1.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[fe80::1]/x']) {
    let refused = false
    try { await n.create({ url }, 'test') } catch { refused = true }
    t.ok(refused, `${url} refused`)
  }
  t.same((await n.list()).map(w => w.url), [], 'none stored')
  t.same(wire.attempts, [], 'no socket opened')
})

t.test('credentials in a webhook URL are used but never shown in listings', async t => {
  const db = tempDb(t)
  const rx = await listen()
  t.teardown(() => { rx.server.close() })
  const n = new WebhookNotifier(new SqliteWebhookStore(db), { allow: ['127.0.0.1/32'] })
  const wh = await n.create({ url: `http://hook-user:s3cr%40t@127.0.0.1:${rx.port}/hook?token=abc&site=paris` }, 'test')
  t.notMatch(JSON.stringify(wh), /s3cr|hook-user|abc/, 'the creation answer shows no credential')
  t.notMatch(JSON.stringify(await n.list()), /s3cr|hook-user|abc/, 'the listing shows no credential')
  queue(db, wh.id)
  await n.run()
  t.equal(rx.seen[0]?.authorization, 'Basic ' + Buffer.from('hook-user:s3cr@t').toString('base64'), 'credentials used')
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
  await n.run()
  const [da, db2] = [(await n.deliveries(a.id))[0], (await n.deliveries(b.id))[0]]
  t.ok(da.lastError !== undefined && da.lastError !== '', `a closed port: "${da.lastError ?? ''}"`)
  t.equal(db2.lastError, da.lastError, 'closed and silent read the same')
})
