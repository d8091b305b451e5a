/**
 * One webhook delivery on the wire: the signed POST, to the checked addresses only,
 * and the coarse words the deliveries API records for a failure.
 */
import { createHmac } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { pinnedLookup, TargetGuard } from './target-guard.js'
import type { OutboxRow } from './repository.js'

/** What a delivery sends: its outbox row's id, event and exact body. */
export type DeliveryRow = Pick<OutboxRow, 'id' | 'eventId' | 'type' | 'body'>

/**
 * What the deliveries API records for a failure: coarse on purpose, so the log
 * cannot tell a closed port (refused at once) from a filtered one (silence) or
 * a TLS listener from a plain one. The operator's server log has the error code.
 */
export const DELIVERY_ERRORS = {
  noResponse: 'no HTTP response (connection failed or timed out)',
  redirect: (status: number) => `HTTP ${status} (redirects are not followed)`,
  status: (status: number) => `HTTP ${status}`
} as const

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`). */
export function signBody (secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(timestamp + '.' + body).digest('hex')
}

/**
 * One POST over node:http(s): the target is checked (every resolved address)
 * before any socket opens, the socket connects only to those addresses, no
 * redirect is followed, nothing of the answer is read. Resolves with the HTTP
 * status; rejects with TargetRefused or the socket error.
 */
export async function postDelivery (guard: TargetGuard, opts: { timeoutMs: number, userAgent: string }, hook: { url: string, secret: string }, row: DeliveryRow, ts: string): Promise<number> {
  const u = new URL(hook.url)
  const ac = new AbortController()
  const deadline = setTimeout(() => { ac.abort() }, opts.timeoutMs)
  try {
    const addresses = await Promise.race([guard.resolveChecked(u), new Promise<never>((_resolve, reject) => {
      ac.signal.addEventListener('abort', () => { reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })) })
    })])
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(row.body)),
      'user-agent': opts.userAgent,
      'idempotency-key': row.eventId,
      'x-vigie-event': row.type,
      'x-vigie-delivery': String(row.id),
      'x-vigie-timestamp': ts,
      'x-vigie-signature': signBody(hook.secret, ts, row.body)
    }
    // Credentials in the URL are used, never shown (listings and logs redact them).
    if (u.username !== '' || u.password !== '') headers.authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')
    const host = TargetGuard.hostOf(u)
    const request = u.protocol === 'https:' ? https.request : http.request
    return await new Promise<number>((resolve, reject) => {
      const req = request({
        protocol: u.protocol,
        hostname: host,
        port: u.port === '' ? undefined : Number(u.port),
        path: u.pathname + u.search,
        method: 'POST',
        headers,
        agent: false,
        lookup: pinnedLookup(addresses),
        signal: ac.signal,
        ...(u.protocol === 'https:' && !/^[0-9.]+$|:/.test(host) ? { servername: host } : {})
      }, (res) => {
        res.resume()
        res.destroy()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end(row.body)
    })
  } finally {
    clearTimeout(deadline)
  }
}
