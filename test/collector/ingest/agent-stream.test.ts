import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { testApp, type TestApp } from '../../helpers/app.js'
import { makeReport } from '../../helpers/reports.js'
import { waitFor } from '../../helpers/wait.js'

async function listening (t: Test): Promise<TestApp & { wsUrl: string }> {
  const h = await testApp()
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const addr = h.app.server.address() as { port: number }
  return { ...h, wsUrl: `ws://127.0.0.1:${addr.port}/api/v1/agent/stream` }
}

function connect (url: string, token?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
    ws.once('open', () => { resolve(ws) })
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`HTTP ${res.statusCode}`)) })
    ws.once('error', reject)
  })
}

function nextMessage (ws: WebSocket): Promise<any> {
  return new Promise((resolve, reject) => {
    ws.once('message', (d) => { resolve(JSON.parse(String(d))) })
    ws.once('close', (code, reason) => { reject(new Error(`closed ${code} ${reason.toString()}`)) })
  })
}

function closed (ws: WebSocket): Promise<{ code: number, reason: string }> {
  return new Promise(resolve => { ws.once('close', (code, reason) => { resolve({ code, reason: reason.toString() }) }) })
}

t.test('reports sent on the stream are acknowledged by seq and stored once', async t => {
  const h = await listening(t)
  const a = await h.enroll()
  const ws = await connect(h.wsUrl, a.token)
  t.teardown(() => ws.close())
  const second = makeReport(a.agentId, 2)
  ws.send(JSON.stringify({ type: 'reports', reports: [makeReport(a.agentId, 1), second] }))
  const ack = await nextMessage(ws)
  t.equal(ack.type, 'ack')
  t.same(ack.stored, [1, 2])
  // A resend is the same report again (from the agent's spool).
  ws.send(JSON.stringify({ type: 'reports', reports: [second] }))
  const dup = await nextMessage(ws)
  t.same(dup.duplicates, [2])
  t.equal(h.app.registry.countStoredReports(a.agentId), 2)
  t.ok(h.app.streams.isConnected(a.agentId), 'the collector knows the agent is streaming')
})

t.test('a stream without a valid agent token is refused before the upgrade', async t => {
  const h = await listening(t)
  await t.rejects(connect(h.wsUrl), /HTTP 401/)
  await t.rejects(connect(h.wsUrl, 'vga_wrong-token-000000000000000000000'), /HTTP 401/)
  await t.rejects(connect(h.wsUrl, h.adminToken), /HTTP 401/, 'a technician token is not an agent token')
})

t.test('garbage, invalid, binary, oversized and impersonating frames close the stream with a reason and store nothing', async t => {
  const h = await listening(t)
  const a = await h.enroll()
  const b = await h.enroll('other')
  const cases: Array<{ name: string, send: (ws: WebSocket) => void, code: number, reason: RegExp }> = [
    { name: 'not JSON', send: ws => ws.send('hello {'), code: 4400, reason: /VIGIE_ERR_FRAME_INVALID/ },
    { name: 'binary', send: ws => ws.send(Buffer.from([1, 2, 3])), code: 4400, reason: /VIGIE_ERR_FRAME_INVALID/ },
    { name: 'schema-invalid', send: ws => ws.send(JSON.stringify({ type: 'reports', reports: [{ ...makeReport(a.agentId, 1), seq: -1 }] })), code: 4400, reason: /\/reports\/0\/seq/ },
    { name: 'wrong message type', send: ws => ws.send(JSON.stringify({ type: 'hello' })), code: 4400, reason: /VIGIE_ERR_FRAME_INVALID/ },
    { name: 'oversized', send: ws => ws.send('x'.repeat(1024 * 1024 + 10)), code: 1009, reason: /.*/ },
    { name: 'another agent', send: ws => ws.send(JSON.stringify({ type: 'reports', reports: [makeReport(b.agentId, 1)] })), code: 4003, reason: /VIGIE_ERR_AGENT_MISMATCH/ }
  ]
  for (const c of cases) {
    const ws = await connect(h.wsUrl, a.token)
    const done = closed(ws)
    c.send(ws)
    const { code, reason } = await done
    t.equal(code, c.code, `${c.name}: close code ${c.code}`)
    t.match(reason, c.reason, `${c.name}: reason says why`)
  }
  t.equal(h.app.registry.countStoredReports(a.agentId), 0, 'nothing stored')
  t.equal(h.app.registry.countStoredReports(b.agentId), 0)
  t.equal(h.app.counters.get('stream_frames_rejected'), 5)

  const ws = await connect(h.wsUrl, a.token)
  t.teardown(() => ws.close())
  ws.send(JSON.stringify({ type: 'reports', reports: [makeReport(a.agentId, 7)] }))
  t.same((await nextMessage(ws)).stored, [7], 'a new stream still works afterwards')
})

t.test('a revoked agent is cut off on its open stream', async t => {
  const h = await listening(t)
  const a = await h.enroll()
  const ws = await connect(h.wsUrl, a.token)
  await waitFor(() => h.app.streams.isConnected(a.agentId), { what: 'stream registered' })
  await h.app.agents.revoke(a.agentId)
  const done = closed(ws)
  ws.send(JSON.stringify({ type: 'reports', reports: [makeReport(a.agentId, 1)] }))
  const { code } = await done
  t.equal(code, 4010)
  t.equal(h.app.registry.countStoredReports(a.agentId), 0)
})

t.test('an agent cannot pile up streams: a third one closes the oldest', async t => {
  const h = await listening(t)
  const a = await h.enroll()
  const first = await connect(h.wsUrl, a.token)
  const firstClosed = closed(first)
  await waitFor(() => h.app.streams.size === 1, { what: 'first stream registered' })
  const second = await connect(h.wsUrl, a.token)
  await waitFor(() => h.app.streams.size === 2, { what: 'second stream registered' })
  const third = await connect(h.wsUrl, a.token)
  t.teardown(() => { second.close(); third.close() })
  const { code, reason } = await firstClosed
  t.equal(code, 4009)
  t.match(reason, /superseded/)
  await waitFor(() => h.app.streams.size === 2, { what: 'two streams left' })
  third.send(JSON.stringify({ type: 'reports', reports: [makeReport(a.agentId, 1)] }))
  t.same((await nextMessage(third)).stored, [1], 'the newest stream works')
})
