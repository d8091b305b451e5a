/**
 * A real HTTP webhook receiver for tests: listens on 127.0.0.1 port 0, checks
 * every delivery's HMAC signature, records it, and can be told to fail (answer
 * 500) or go down (stop listening) and come back on the same port.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface ReceivedDelivery {
  /** request path and query: tell subscriptions on the same receiver apart */
  path: string
  eventId: string
  type: string
  timestamp: string
  signature: string
  signatureValid: boolean
  body: Record<string, any>
  raw: string
}

export interface WebhookReceiver {
  readonly url: string
  readonly port: number
  /** every request received, in arrival order (duplicates included) */
  readonly deliveries: ReceivedDelivery[]
  /** 'ok' answers 204; 'fail' answers 500 (the delivery is recorded as attempted, not accepted) */
  mode: 'ok' | 'fail'
  /** requests answered 500 */
  failures: number
  /** distinct (path, event id) pairs accepted, as `path eventId` */
  accepted (): string[]
  /** (path, event id) pairs accepted more than once */
  duplicates (): string[]
  /** stop listening (connections are cut) */
  down (): Promise<void>
  /** listen again on the same port */
  up (): Promise<void>
  /** resolves when `pred()` is true, checking every 20 ms; rejects after `timeoutMs` */
  waitFor (pred: () => boolean, timeoutMs?: number, what?: string): Promise<void>
  close (): Promise<void>
}

function verify (secret: string, ts: string, raw: string, header: string): boolean {
  const want = Buffer.from('sha256=' + createHmac('sha256', secret).update(ts + '.' + raw).digest('hex'))
  const got = Buffer.from(header)
  return want.length === got.length && timingSafeEqual(want, got)
}

export async function startWebhookReceiver (secret: string): Promise<WebhookReceiver> {
  let server: Server | undefined
  const sockets = new Set<Socket>()
  const deliveries: ReceivedDelivery[] = []
  const okIds: string[] = []
  let port = 0

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      const ts = String(req.headers['x-vigie-timestamp'] ?? '')
      const sig = String(req.headers['x-vigie-signature'] ?? '')
      let body: Record<string, any> = {}
      try { body = JSON.parse(raw) as Record<string, any> } catch { /* not JSON: left empty, the test sees it */ }
      const d: ReceivedDelivery = {
        path: req.url ?? '/',
        eventId: String(req.headers['idempotency-key'] ?? ''),
        type: String(req.headers['x-vigie-event'] ?? ''),
        timestamp: ts,
        signature: sig,
        signatureValid: verify(secret, ts, raw, sig),
        body,
        raw
      }
      deliveries.push(d)
      if (r.mode === 'fail' || !d.signatureValid) {
        r.failures++
        res.writeHead(d.signatureValid ? 500 : 401).end()
        return
      }
      okIds.push(d.path + ' ' + d.eventId)
      res.writeHead(204).end()
    })
  }

  const listen = async (): Promise<void> => {
    server = createServer(handler)
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(port, '127.0.0.1', () => { resolve() })
    })
    port = (server.address() as AddressInfo).port
  }
  await listen()

  const r: WebhookReceiver = {
    get url () { return `http://127.0.0.1:${port}/hook` },
    get port () { return port },
    deliveries,
    mode: 'ok',
    failures: 0,
    accepted: () => [...new Set(okIds)],
    duplicates: () => okIds.filter((id, i) => okIds.indexOf(id) !== i),
    async down () {
      const s = server
      server = undefined
      if (s === undefined) return
      for (const c of sockets) c.destroy()
      await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
    },
    async up () { if (server === undefined) await listen() },
    async waitFor (pred, timeoutMs = 10_000, what = 'condition') {
      const until = Date.now() + timeoutMs
      while (!pred()) {
        if (Date.now() > until) throw new Error(`webhook receiver: timed out waiting for ${what} (${deliveries.length} deliveries seen)`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async close () { await r.down() }
  }
  return r
}
