/**
 * Budgets: connections per address and header / body timeouts that fire when
 * documented, with real sockets on 127.0.0.1. Findings: slow headers lived ~60 s
 * and slow bodies ~90 s (documented 30 s); 979 idle sockets from one address made
 * normal requests fail at a 1024 file-descriptor limit.
 */
import { test } from 'tap'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { testApp } from '../../helpers/app.js'
import { waitFor } from '../../helpers/wait.js'

async function listening (config: Parameters<typeof testApp>[0]) {
  const h = await testApp(config)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as AddressInfo).port
  return { h, port }
}

interface Conn { socket: net.Socket, closed: boolean, closedAt: number, data: string }

function connect (port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const c: Conn = { socket, closed: false, closedAt: 0, data: '' }
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => { c.data += d })
    socket.on('error', () => {})
    socket.on('close', () => { c.closed = true; c.closedAt = Date.now() })
    socket.once('connect', () => { resolve(c) })
    socket.once('error', reject)
  })
}

/** Writes one chunk every `everyMs` until the socket closes or `maxMs` passes; returns when the server closed it. */
async function trickle (c: Conn, chunk: string, everyMs: number, maxMs: number): Promise<void> {
  const timer = setInterval(() => { if (!c.closed) c.socket.write(chunk) }, everyMs)
  try {
    await waitFor(() => c.closed, { timeoutMs: maxMs, intervalMs: 20, what: 'the server to close the slow connection' })
  } finally {
    clearInterval(timer)
    c.socket.destroy()
  }
}

test('slow headers (bytes trickled) are cut at VIGIE_HEADERS_TIMEOUT_MS, not 30-60 s later', async (t) => {
  const headersTimeoutMs = 1000
  const { h, port } = await listening({ config: { headersTimeoutMs, requestTimeoutMs: 3000 } })
  t.teardown(h.close)
  const c = await connect(port)
  const start = Date.now()
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  await trickle(c, 'X-Slow: a\r\n', 100, headersTimeoutMs + 4000)
  const lived = c.closedAt - start
  t.ok(lived >= headersTimeoutMs - 50, `not cut before the timeout (${lived} ms)`)
  t.ok(lived <= headersTimeoutMs + 1500, `cut within the timeout plus a small margin (${lived} ms)`)
  t.match(c.data, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
})

test('a slow body (bytes trickled) is cut at VIGIE_REQUEST_TIMEOUT_MS', async (t) => {
  const requestTimeoutMs = 1500
  const { h, port } = await listening({ config: { headersTimeoutMs: 1000, requestTimeoutMs } })
  t.teardown(h.close)
  const c = await connect(port)
  const start = Date.now()
  c.socket.write('POST /api/v1/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"x":"')
  await trickle(c, 'a', 100, requestTimeoutMs + 4000)
  const lived = c.closedAt - start
  t.ok(lived >= requestTimeoutMs - 50, `not cut before the timeout (${lived} ms)`)
  t.ok(lived <= requestTimeoutMs + 1500, `cut within the timeout plus a small margin (${lived} ms)`)
})

test('connections per address: at the cap all work, one over is closed, normal requests still succeed', async (t) => {
  const cap = 5
  const { h, port } = await listening({ config: { maxConnectionsPerIp: cap } })
  t.teardown(h.close)
  const idle: Conn[] = []
  for (let i = 0; i < cap; i++) idle.push(await connect(port))
  // the server has seen all of them (the count is kept on its 'connection' event)
  const serverConnections = () => new Promise<number>((resolve) => { h.app.server.getConnections((_e, count) => { resolve(count) }) })
  await waitFor(async () => await serverConnections() === cap, { what: 'the server to count the idle connections' })

  const extra = await connect(port)
  await waitFor(() => extra.closed, { timeoutMs: 3000, what: 'the connection over the cap to be closed' })
  t.equal(extra.data, '', 'closed without an answer')
  t.equal(idle.filter(c => c.closed).length, 0, 'the connections at the cap stay open')

  // a connection at the cap still works
  idle[0].socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await waitFor(() => /\r\n\r\n/.test(idle[0].data), { what: 'an answer on a connection at the cap' })
  t.match(idle[0].data, /^HTTP\/1\.1 200/, 'a request on a connection at the cap succeeds')

  // once one closes, a new normal request from the same address succeeds
  idle[1].socket.destroy()
  await waitFor(async () => await serverConnections() === cap - 1, { what: 'the server to see the close' })
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000), headers: { connection: 'close' } }).catch(() => undefined)
    return res?.status === 200
  }, { timeoutMs: 5000, what: 'a normal request after a slot freed' })
  t.ok(h.app.counters.get('connections_refused') >= 1, 'the refusal is counted on /metrics')
  const metrics = await h.app.inject({ url: '/metrics' })
  t.match(metrics.body, /vigie_connections_refused_total [1-9]/)
  for (const c of idle) c.socket.destroy()
})
