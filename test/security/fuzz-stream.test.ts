/**
 * Property-based fuzzing of the agent WebSocket stream on a real listening
 * collector: damaged report frames, garbage text and binary frames. Every frame
 * is either acknowledged or refused with a documented close code; the collector
 * never errors, keeps serving, and stores nothing that fails the protocol.
 */
import t from 'tap'
import fc from 'fast-check'
import WebSocket from 'ws'
import { Compile } from 'typebox/compile'
import { Type } from 'typebox'
import { HostFacts, MetricValue, StreamReports } from '../../protocol/index.js'
import { testApp } from '../helpers/app.js'
import { loadFixture } from '../helpers/reports.js'
import { applyMutations, damageText, depthOf, mutation, textDamage } from './mutate.js'
import { LIMITS } from '../../protocol/index.js'
import { decodeFrame } from '../../collector/store/sqlite/metrics.js'

const SECONDS = Number(process.env.VIGIE_FUZZ_SECONDS ?? 8)
/** 4400 invalid frame, 4003 another agent's report, 1009 too large (ws itself), 1007 invalid UTF-8 (ws itself). */
const REFUSAL_CODES = new Set([4400, 4003, 1009, 1007])
const frameCheck = Compile(StreamReports)

t.test('damaged stream frames are acknowledged or refused with a close code, never an internal error', async t => {
  const h = await testApp({ config: { rateLimitIpPerMin: 0, rateLimitAgentPerMin: 0 } })
  t.teardown(h.close)
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const url = `ws://127.0.0.1:${(h.app.server.address() as { port: number }).port}/api/v1/agent/stream`
  const { agentId, token } = await h.enroll('ws-fuzz')
  const other = await h.enroll('ws-other')
  const golden = loadFixture<Record<string, unknown>>('report.json')

  let ws: WebSocket | undefined
  let reconnects = 0
  async function socket (): Promise<WebSocket> {
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) return ws
    reconnects++
    const s = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, maxPayload: 4 * 1024 * 1024 })
    await new Promise((resolve, reject) => { s.once('open', resolve); s.once('error', reject) })
    ws = s
    return s
  }
  /** Sends one frame; resolves with the answer or the close. */
  async function exchange (data: string | Buffer): Promise<{ kind: 'message', msg: any } | { kind: 'close', code: number, reason: string }> {
    const s = await socket()
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no answer within 5 s')) }, 5000)
      const onMessage = (d: WebSocket.RawData): void => { done(); resolve({ kind: 'message', msg: JSON.parse(String(d)) }) }
      const onClose = (code: number, reason: Buffer): void => { done(); resolve({ kind: 'close', code, reason: reason.toString() }) }
      const done = (): void => { clearTimeout(timer); s.off('message', onMessage); s.off('close', onClose) }
      s.on('message', onMessage)
      s.on('close', onClose)
      s.send(data)
    })
  }

  let seq = 0
  let cases = 0
  const outcomes = new Map<string, number>()
  const base = Date.now() - 3_600_000
  const frameArb = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('reports' as const), reports: fc.array(fc.record({ muts: fc.array(mutation, { maxLength: 3 }), foreign: fc.nat(29) }), { minLength: 1, maxLength: 3 }), text: fc.option(textDamage, { freq: 5 }), typeMut: fc.nat(9) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), s: fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('binary' as const), b: fc.uint8Array({ maxLength: 200 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), n: fc.integer({ min: 1024 * 1024 - 100, max: 1024 * 1024 + 100 }) }) }
  )
  let highestAcked = 0
  /** The numeric seqs of a frame's reports (none when it does not parse). */
  const frameSeqs = (data: string | Buffer): number[] => {
    try {
      const reports = (JSON.parse(String(data)) as { reports?: unknown }).reports
      return Array.isArray(reports) ? reports.map(r => (r as { seq?: unknown } | null)?.seq).filter((n): n is number => typeof n === 'number') : []
    } catch { return [] }
  }
  const deadline = Date.now() + SECONDS * 1000
  await fc.assert(fc.asyncProperty(frameArb, async (f) => {
    if (Date.now() > deadline) return
    cases++
    let data: string | Buffer
    let valid = false
    if (f.kind === 'reports') {
      const reports = f.reports.map(r => {
        seq++
        return applyMutations({ ...golden, agentId: r.foreign === 0 ? other.agentId : agentId, seq, sampledAt: new Date(Math.min(base + seq * 1000, Date.now() - 1000)).toISOString(), agentClock: new Date().toISOString() }, r.muts)
      })
      const msg: Record<string, unknown> = { type: f.typeMut === 0 ? 'Reports' : 'reports', reports }
      data = JSON.stringify(msg)
      if (f.text !== null) data = damageText(data, f.text)
      let parsed: unknown
      try { parsed = JSON.parse(data) } catch { parsed = undefined }
      // nesting deeper than LIMITS.maxJsonDepth is refused before parsing (VIGIE_ERR_JSON_TOO_DEEP)
      valid = parsed !== undefined && depthOf(parsed) <= LIMITS.maxJsonDepth && frameCheck.Check(parsed) && (parsed as { reports: Array<{ agentId: string }> }).reports.every(r => r.agentId === agentId)
    } else if (f.kind === 'text') data = f.s
    else if (f.kind === 'binary') data = Buffer.from(f.b)
    else data = '{"type":"reports","reports":[' + ' '.repeat(f.n) + ']}'
    const out = await exchange(data)
    const key = out.kind === 'message' ? `message:${out.msg.type}${out.msg.code !== undefined ? ':' + out.msg.code : ''}` : `close:${out.code}`
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
    if (out.kind === 'message') {
      // A mutated seq may be refused with its documented code, and only where the
      // frame earns it: more than LIMITS.maxSeqJump above every seq acknowledged so
      // far, or a seq already acknowledged (with other content).
      const seqs = frameSeqs(data)
      const earned = (out.msg.code === 'VIGIE_ERR_SEQ_JUMP' && seqs.some(n => n > highestAcked + LIMITS.maxSeqJump)) ||
        (out.msg.code === 'VIGIE_ERR_SEQ_CONFLICT' && seqs.some(n => n <= highestAcked))
      if (out.msg.type === 'error' && !earned) throw new Error(`error frame ${out.msg.code}: ${out.msg.message} for ${String(data).slice(0, 300)}`)
      if (out.msg.type === 'error') return
      if (out.msg.type !== 'ack') throw new Error(`unexpected message ${JSON.stringify(out.msg)}`)
      for (const n of seqs) highestAcked = Math.max(highestAcked, n)
    } else {
      if (!REFUSAL_CODES.has(out.code)) throw new Error(`closed ${out.code} ${out.reason} for ${String(data).slice(0, 300)}`)
      if (valid) throw new Error(`a valid frame was refused: ${out.code} ${out.reason}`)
    }
  }), { numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true })
  ws?.close()

  t.comment(`fuzzed ${cases} stream frames in ${SECONDS} s over ${reconnects} connections; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.ok(cases >= 300, `at least 300 cases (${cases})`)
  t.ok((outcomes.get('message:ack') ?? 0) > 0, 'valid frames were acknowledged')
  const hostOk = Compile(HostFacts)
  const latestOk = Compile(Type.Array(MetricValue))
  for (const m of h.app.db.prepare('SELECT m.id, m.host_json, l.latest_json FROM machines m JOIN machine_latest l ON l.machine_id = m.id').all() as Array<{ id: string, host_json: string, latest_json: string }>) {
    t.ok(hostOk.Check(JSON.parse(m.host_json)) && latestOk.Check(JSON.parse(m.latest_json)) && latestOk.Check(h.app.registry.getMachine(m.id)!.latest), `${m.id}: stored state re-validates`)
  }
  t.equal(h.app.registry.countStoredReports(other.agentId), 0, 'nothing stored under another agent')
  const samples = (h.app.db.prepare('SELECT data FROM frames').pluck().all() as Buffer[]).flatMap(decodeFrame)
  t.ok(samples.every(s => Number.isFinite(s.value)), `all ${samples.length} samples finite`)
  t.equal((await fetch(url.replace('ws:', 'http:').replace('/api/v1/agent/stream', '/healthz'))).status, 200, 'still serving')
})
