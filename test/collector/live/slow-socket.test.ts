/**
 * A live dashboard socket that stops reading, on a real TCP connection: a raw
 * socket does the WebSocket handshake, asks for one machine's full reports, then
 * never reads again, so TCP back-pressure fills the kernel buffers and then the
 * collector's. The collector must cut it off once its unsent bytes pass
 * VIGIE_LIVE_MAX_BUFFERED_BYTES (1 MiB), hold no more than the documented bound for
 * it meanwhile, and keep serving a second dashboard watching the same machine.
 */
import crypto from 'node:crypto'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import WebSocket, { type WebSocketServer } from 'ws'
import type { Report } from '../../../protocol/index.js'
import { LIVE_FRAME_BYTES } from '../../../collector/live/hub.js'
import { testApp } from '../../helpers/app.js'
import { waitFor } from '../../helpers/wait.js'

const BOUND = 1024 * 1024

/** A masked client text frame (RFC 6455 §5.2), payload under 126 bytes. */
function clientFrame (text: string): Buffer {
  const payload = Buffer.from(text)
  if (payload.length >= 126) throw new Error('frame too long for this helper')
  const mask = crypto.randomBytes(4)
  const out = Buffer.alloc(6 + payload.length)
  out[0] = 0x81
  out[1] = 0x80 | payload.length
  mask.copy(out, 2)
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4]
  return out
}

/** Opens /api/v1/live on a raw socket, asks to watch `machineId`, then stops reading. */
async function nonReadingClient (port: number, token: string, machineId: string): Promise<{ socket: net.Socket, readBytes: () => number }> {
  const socket = net.connect({ host: '127.0.0.1', port })
  socket.on('error', () => {})
  let head = ''
  let bytes = 0
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(`GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${token}\r\n\r\n`)
    })
    const onData = (d: Buffer): void => {
      bytes += d.length
      head += d.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`)); return }
      resolve()
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
  socket.write(clientFrame(JSON.stringify({ type: 'watch', machines: [machineId] })))
  // From here on nothing is read: the kernel's buffers fill, then the collector's.
  socket.pause()
  return { socket, readBytes: () => bytes }
}

/** A report of ~330 kB: 200 values with 8 long labels each (the same series every time). */
function bigReport (agentId: string, seq: number): Report {
  const now = new Date().toISOString()
  const labels = (i: number): Record<string, string> => Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`l${k}`, `${i}-${k}-`.padEnd(200, 'v')]))
  return {
    v: 1,
    agentId,
    seq,
    sampledAt: now,
    agentClock: now,
    host: { hostname: 'busy', os: 'linux', osVersion: '', kernel: '', arch: 'x64', agentVersion: 'test' },
    metrics: Array.from({ length: 200 }, (_, i) => ({ name: 'test.value', unit: 'count' as const, value: seq, labels: labels(i) })),
    unavailable: []
  }
}

t.test('a live socket that stops reading is cut off past 1 MiB unsent; another dashboard on the same machine keeps receiving', async t => {
  const h = await testApp({ config: { liveMaxBufferedBytes: BOUND } })
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (h.app.server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`
  const { agentId, token } = await h.enroll('busy')
  const wss = h.app.websocketServer as WebSocketServer

  const slow = await nonReadingClient(port, h.viewerToken, agentId)
  t.teardown(() => { slow.socket.destroy() })
  const slowServerSide = await waitFor(() => wss.clients.size === 1 && [...wss.clients][0], { what: 'the slow socket on the server' })

  const seen = new Set<number>()
  const reader = new WebSocket(`ws://127.0.0.1:${port}/api/v1/live`, { headers: { authorization: `Bearer ${h.viewerToken}` } })
  t.teardown(() => { reader.terminate() })
  await new Promise<void>((resolve, reject) => { reader.once('open', () => { resolve() }); reader.once('error', reject) })
  reader.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { type: string, events?: Array<{ type: string, seq?: number }> }
    for (const e of msg.events ?? []) if (e.type === 'report' && e.seq !== undefined) seen.add(e.seq)
  })
  reader.send(JSON.stringify({ type: 'watch', machines: [agentId] }))
  await waitFor(() => h.app.live.size === 2, { what: 'both dashboards registered' })
  // The watch frames were sent before any report: one stored report reaches both watch lists.

  // What the collector holds unsent for the slow socket, sampled after each frame the
  // collector sends it (live frames go out once the batch's incident lookup settles,
  // not inside the 'reports' event), after each report batch, and every 5 ms.
  let peak = 0
  const sample = (): void => { peak = Math.max(peak, slowServerSide.bufferedAmount) }
  const send = slowServerSide.send.bind(slowServerSide) as (...args: unknown[]) => void
  slowServerSide.send = ((...args: unknown[]) => { send(...args); sample() }) as typeof slowServerSide.send
  h.app.events.on('reports', sample)
  const sampler = setInterval(sample, 5)
  t.teardown(() => { clearInterval(sampler) })

  let seq = 0
  let bytesPublished = 0
  const post = async (): Promise<void> => {
    const reports = [bigReport(agentId, ++seq), bigReport(agentId, ++seq)]
    const body = JSON.stringify({ reports })
    bytesPublished += body.length
    const res = await fetch(`${url}/api/v1/reports`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
    if (res.status !== 200) throw new Error(`POST reports: ${res.status} ${await res.text()}`)
  }
  // Keep publishing for the machine until the slow socket is cut off (the kernel takes a few MiB first).
  while (h.app.live.size === 2) {
    if (bytesPublished > 64 * BOUND) throw new Error(`still connected after ${bytesPublished} bytes published; peak unsent ${peak}`)
    await post()
  }
  sample()
  clearInterval(sampler)
  const cutAfter = bytesPublished
  t.ok(peak > BOUND, `cut off after passing the bound (peak unsent ${peak} bytes, ${cutAfter} bytes published)`)
  t.ok(peak <= BOUND + LIVE_FRAME_BYTES + 400_000, `the collector held at most the bound + one frame + one event for it (peak ${peak})`)
  await waitFor(() => slowServerSide.readyState === WebSocket.CLOSED, { timeoutMs: 5000, what: 'the slow socket closed on the collector' })
  t.equal(slowServerSide.bufferedAmount, 0, 'its unsent bytes are released')
  t.ok(slow.readBytes() < 64 * 1024, `the slow client really read nothing after the handshake (${slow.readBytes()} bytes)`)

  // The reading dashboard got every report so far, and keeps getting new ones.
  const before = seq
  for (let i = 0; i < 3; i++) await post()
  await waitFor(() => seen.size === seq, { what: `the reader to see all ${seq} reports (seen ${seen.size})` })
  t.same([...seen].sort((a, b) => a - b), Array.from({ length: seq }, (_, i) => i + 1), `the reading dashboard received every report, ${seq - before} after the cut`)
  t.equal(h.app.live.size, 1, 'only the reading dashboard remains')
  const metrics = await (await fetch(`${url}/metrics`)).text()
  t.match(metrics, /^vigie_live_clients 1$/m, '/metrics counts one live client')
  t.match(metrics, /^vigie_live_clients_dropped_total 1$/m, '/metrics counts the dropped one')
})
