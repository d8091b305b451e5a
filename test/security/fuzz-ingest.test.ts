/**
 * Property-based fuzzing of the agent-facing HTTP routes: thousands of damaged
 * reports and enrollment requests. The collector must answer 4xx (never 5xx),
 * keep serving, and store nothing that does not re-validate against the protocol.
 */
import t from 'tap'
import fc from 'fast-check'
import { Compile } from 'typebox/compile'
import { Type } from 'typebox'
import { HostFacts, MetricValue, ReportBatch, Unavailable, EnrollRequest } from '../../protocol/index.js'
import { testApp } from '../helpers/app.js'
import { loadFixture } from '../helpers/reports.js'
import { applyMutations, damageText, depthOf, mutation, textDamage } from './mutate.js'
import { firstNonFinite } from '../../collector/core/finite-numbers.js'
import { decodeFrame } from '../../collector/store/sqlite/metrics.js'
import { WebSocket } from 'ws'
import { waitFor } from '../helpers/wait.js'
import { LIMITS } from '../../protocol/index.js'


const batchCheck = Compile(ReportBatch)
const enrollCheck = Compile(EnrollRequest)
const hostCheck = Compile(HostFacts)
const latestCheck = Compile(Type.Array(MetricValue))
const unavailableCheck = Compile(Type.Array(Unavailable))
const golden = loadFixture<Record<string, unknown>>('report.json')
function pointer (v: unknown, p: string): unknown {
  for (const seg of p.split('/').slice(1)) v = (v as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')]
  return v
}
const SECONDS = Number(process.env.VIGIE_FUZZ_SECONDS ?? 8)
const ALLOWED = new Set([200, 400, 403, 413, 415])

t.test('damaged report batches get 4xx, never 5xx, and nothing invalid is stored', async t => {
  const h = await testApp({ config: { rateLimitIpPerMin: 0, rateLimitAgentPerMin: 0, bodyLimitBytes: 256 * 1024 } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('fuzz-pc')
  const other = await h.enroll('other-pc')
  // A dashboard watches the fuzzed machine the whole time: whatever an agent sends,
  // the live feed must neither crash the collector nor relay what the agent made up.
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const addr = h.app.server.address() as { port: number }
  const watcher = new WebSocket(`ws://127.0.0.1:${addr.port}/api/v1/live`, { headers: { authorization: `Bearer ${h.adminToken}` } })
  const frames: Array<{ type: string, events?: Array<{ type: string, machineId?: string, seq?: number }> }> = []
  let watcherClosed: number | undefined
  watcher.on('message', (d) => { frames.push(JSON.parse(String(d))) })
  watcher.on('close', (code) => { watcherClosed = code })
  await new Promise<void>((resolve, reject) => { watcher.once('open', () => { resolve() }); watcher.once('error', reject) })
  t.teardown(() => { watcher.terminate() })
  await waitFor(() => frames.some(f => f.type === 'hello'), { what: 'the live hello frame' })
  watcher.send(JSON.stringify({ type: 'watch', machines: [agentId] }))
  let seq = 0
  const base = Date.now() - 3_600_000
  const statuses = new Map<number, number>()
  let cases = 0
  let highestStored = 0
  let acceptedOnlyByCoercion = 0
  const coercionExamples: string[] = []
  const deadline = Date.now() + SECONDS * 1000

  const oneReport = fc.record({
    muts: fc.array(mutation, { minLength: 0, maxLength: 3 }),
    foreign: fc.nat(19)
  })
  const arb = fc.record({
    reports: fc.array(oneReport, { minLength: 1, maxLength: 3 }),
    wrap: fc.nat(19),
    text: fc.option(textDamage, { freq: 6 })
  })

  await fc.assert(fc.asyncProperty(arb, async (c) => {
    if (Date.now() > deadline) return
    cases++
    const reports = c.reports.map(r => {
      seq++
      // a second ago, whatever the case number: a sample ahead of the collector's clock is refused
      const at = new Date(Math.min(base + seq * 1000, Date.now() - 1000)).toISOString()
      const rep = { ...golden, agentId: r.foreign === 0 ? other.agentId : agentId, seq, sampledAt: at, agentClock: new Date().toISOString() }
      return applyMutations(rep, r.muts)
    })
    let body: unknown = { reports }
    if (c.wrap === 0) body = reports
    else if (c.wrap === 1) body = { reports, extra: { __proto__: { polluted: true } } }
    let text = JSON.stringify(body) ?? 'null'
    if (c.text !== null) text = damageText(text, c.text)
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: text })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (!ALLOWED.has(res.statusCode)) throw new Error(`status ${res.statusCode} for ${text.slice(0, 500)}: ${res.body.slice(0, 300)}`)
    let parsed: unknown
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    // Bodies with "__proto__" / "constructor" keys are refused by Fastify's JSON parser on purpose.
    const protoKeys = /"(__proto__|constructor)"\s*:/.test(text)
    // JSON has no Infinity, but 1e999 parses to it: the collector refuses such bodies (collector/core/finite-numbers.ts).
    // Nesting deeper than LIMITS.maxJsonDepth is refused before parsing (VIGIE_ERR_JSON_TOO_DEEP).
    const strictlyValid = parsed !== undefined && !protoKeys && firstNonFinite(parsed) === undefined && depthOf(parsed) <= LIMITS.maxJsonDepth && batchCheck.Check(parsed) && (parsed as { reports: Array<{ agentId: string }> }).reports.every(r => r.agentId === agentId)
    // A mutated seq may be refused with its documented code, and only where the batch
    // earns it: more than LIMITS.maxSeqJump above every seq stored so far.
    const seqs = strictlyValid ? (parsed as { reports: Array<{ seq: number }> }).reports.map(r => r.seq) : []
    const code = res.statusCode === 400 ? (JSON.parse(res.body) as { code?: string }).code : undefined
    const earned = code === 'VIGIE_ERR_SEQ_JUMP' && seqs.some(n => n > highestStored + LIMITS.maxSeqJump)
    if (strictlyValid && res.statusCode !== 200 && !earned) throw new Error(`a valid batch was refused (${res.statusCode} ${res.body.slice(0, 300)})`)
    if (strictlyValid && res.statusCode === 200) for (const n of seqs) highestStored = Math.max(highestStored, n)
    if (res.statusCode === 200 && !strictlyValid) {
      acceptedOnlyByCoercion++
      const first = parsed === undefined ? undefined : [...batchCheck.Errors(parsed)][0]
      if (coercionExamples.length < 5 && first !== undefined) coercionExamples.push(`${first.instancePath} = ${JSON.stringify(pointer(parsed, first.instancePath))?.slice(0, 40)} (${first.message})`)
    }
    if (res.statusCode >= 400 && typeof res.json().code !== 'string') throw new Error(`error without a code: ${res.body}`) // one error shape
  }), { numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false, endOnFailure: true })

  t.comment(`fuzzed ${cases} report batches in ${SECONDS} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.comment(`accepted only through the validator's type coercion (e.g. null→0, "12"→12): ${acceptedOnlyByCoercion}`)
  for (const ex of coercionExamples) t.comment('  e.g. ' + ex.replace(/\n/g, ' '))
  t.ok(cases >= 500, `at least 500 cases (${cases})`)
  t.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, 'both accepted and refused batches were exercised')

  // What was stored re-validates against the protocol.
  const db = h.app.db
  const machines = db.prepare('SELECT * FROM machines').all() as Array<{ id: string, host_json: string, latest_json: string, unavailable_json: string, last_seq: number }>
  t.ok(machines.length >= 1)
  for (const m of machines) {
    t.ok(hostCheck.Check(JSON.parse(m.host_json)), `${m.id}: stored host facts are valid`)
    const checkpoint = db.prepare('SELECT latest_json FROM machine_latest WHERE machine_id = ?').pluck().get(m.id) as string
    t.ok(latestCheck.Check(JSON.parse(checkpoint)), `${m.id}: checkpointed latest values are valid`)
    t.ok(latestCheck.Check(h.app.registry.getMachine(m.id)!.latest), `${m.id}: latest values served are valid`)
    t.ok(unavailableCheck.Check(JSON.parse(m.unavailable_json)), `${m.id}: stored unavailable list is valid`)
  }
  // Metric labels become series identity: only pattern keys with string values may be stored.
  const LABEL_KEY = /^[a-z][a-z0-9_]{0,31}$/
  const series = db.prepare('SELECT labels_json FROM series').all() as Array<{ labels_json: string }>
  const badLabels = series.filter(r => Object.entries(JSON.parse(r.labels_json) as Record<string, unknown>).some(([k, v]) => !LABEL_KEY.test(k) || typeof v !== 'string'))
  t.comment(`series with label keys outside the protocol's pattern or non-string values: ${badLabels.length} of ${series.length}${badLabels[0] !== undefined ? ', e.g. ' + badLabels[0].labels_json.slice(0, 120) : ''}`)
  t.equal(badLabels.length, 0, 'stored labels are string values under valid keys')
  t.equal(h.app.registry.countStoredReports(other.agentId), 0, 'no report was ever stored under another agent')
  const samples = (db.prepare('SELECT data FROM frames').pluck().all() as Buffer[]).flatMap(decodeFrame)
  t.ok(samples.every(s => Number.isFinite(s.value)), `all ${samples.length} stored samples are finite numbers`)
  const ledger = db.prepare('SELECT seq FROM reports WHERE agent_id = ?').all(agentId) as Array<{ seq: number }>
  t.ok(ledger.every(r => Number.isSafeInteger(r.seq) && r.seq >= 1), `all ${ledger.length} stored seqs are valid`)
  t.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200, 'the collector still serves')
  t.notOk(({} as Record<string, unknown>).polluted, 'no prototype pollution')
  // The watcher saw the stored reports live, still connected, each event only with v1 fields.
  const newest = Math.max(...ledger.map(r => r.seq))
  await waitFor(() => frames.some(f => f.type === 'batch' && f.events!.some(e => e.type === 'report' && e.seq === newest)), { what: `the live event of seq ${newest}`, timeoutMs: 10_000 })
  t.equal(watcherClosed, undefined, 'the live watcher is still connected')
  const events = frames.filter(f => f.type === 'batch').flatMap(f => f.events!).filter(e => e.type === 'report' && e.machineId === agentId)
  t.ok(events.length > 0, `the watcher got ${events.length} live report events`)
  const FIELDS = new Set(['type', 'machineId', 'atMs', 'seq', 'metrics', 'unavailable'])
  t.equal(events.filter(e => Object.keys(e).some(k => !FIELDS.has(k))).length, 0, 'no live event carries a field the collector did not build')
  // Nor inside: each metric and each unavailable entry relayed has only its v1 fields.
  const METRIC_FIELDS = new Set(['name', 'unit', 'value', 'labels'])
  const UNAVAILABLE_FIELDS = new Set(['probe', 'reason'])
  const inner = events.flatMap(e => [
    ...((e as { metrics?: object[] }).metrics ?? []).flatMap(m => Object.keys(m).filter(k => !METRIC_FIELDS.has(k)).map(k => `metrics[].${k}`)),
    ...((e as { unavailable?: object[] }).unavailable ?? []).flatMap(u => Object.keys(u).filter(k => !UNAVAILABLE_FIELDS.has(k)).map(k => `unavailable[].${k}`))
  ])
  t.same(inner.slice(0, 5), [], 'no metric or unavailable entry in a live event carries a field the agent made up')
})

t.test('damaged enrollment requests get 4xx, never 5xx, and only valid agents are registered', async t => {
  // enrollment rate limits off: the fuzzer enrolls far faster than any fleet
  const h = await testApp({ config: { rateLimitIpPerMin: 0, enrollRatePerMin: 0, enrollRatePerAddressPerMin: 0 } })
  t.teardown(h.close)
  const goldenEnroll = loadFixture<Record<string, unknown>>('enroll-request.json')
  const statuses = new Map<number, number>()
  let cases = 0
  const deadline = Date.now() + SECONDS * 500
  let ip = 0
  await fc.assert(fc.asyncProperty(fc.record({ muts: fc.array(mutation, { maxLength: 3 }), valid: fc.boolean(), text: fc.option(textDamage, { freq: 6 }) }), async (c) => {
    if (Date.now() > deadline) return
    cases++
    const req = applyMutations({ ...goldenEnroll, enrollToken: c.valid ? h.enrollToken : goldenEnroll.enrollToken }, c.muts)
    let text = JSON.stringify(req) ?? 'null'
    if (c.text !== null) text = damageText(text, c.text)
    // A fresh address each time: the failed-enrollment limiter is tested elsewhere.
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/enroll', headers: { 'content-type': 'application/json' }, payload: text, remoteAddress: `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip++ & 255}` })
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
    if (![200, 400, 401, 413, 415].includes(res.statusCode)) throw new Error(`status ${res.statusCode} for ${text.slice(0, 300)}: ${res.body.slice(0, 200)}`)
    if (res.statusCode === 200) {
      const body = res.json()
      if (!/^vga_/.test(body.agentToken)) throw new Error('enrolled without an agent token')
    }
  }), { numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 500, markInterruptAsFailure: false, endOnFailure: true })
  t.comment(`fuzzed ${cases} enrollment requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(cases >= 300, `at least 300 cases (${cases})`)
  const agents = h.app.db.prepare('SELECT hostname, machine_key FROM agents').all() as Array<{ hostname: string, machine_key: string | null }>
  const hostOk = Compile(Type.String({ minLength: 1, maxLength: 255 }))
  const keyOk = Compile(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 128 })]))
  t.ok(agents.every(a => hostOk.Check(a.hostname) && keyOk.Check(a.machine_key)), `all ${agents.length} registered agents have valid names and keys`)
  void enrollCheck
})

t.test('random sign-in bodies, cookies and CSRF headers never cause a 5xx', async t => {
  const h = await testApp({ config: { rateLimitIpPerMin: 0, loginAttemptsPer15Min: 10_000 } })
  t.teardown(h.close)
  let cases = 0
  const deadline = Date.now() + SECONDS * 250
  const junk = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom('vigie_session=', 'vigie_session="', 'vigie_session=%E0%A4%A', 'vigie_session=' + 'a'.repeat(5000), ';;;=;=', 'vigie_session=x; vigie_session=y'))
  await fc.assert(fc.asyncProperty(fc.record({ body: fc.jsonValue({ maxDepth: 3 }), cookie: junk, csrf: junk, method: fc.constantFrom('GET', 'POST', 'DELETE') }), async (c) => {
    if (Date.now() > deadline) return
    cases++
    const login = await h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: JSON.stringify(c.body) ?? 'null', headers: { 'content-type': 'application/json' } })
    if (login.statusCode >= 500) throw new Error(`login ${login.statusCode} ${login.body}`)
    const headers: Record<string, string> = {}
    try { headers.cookie = c.cookie.replace(/[\r\n]/g, ''); headers['x-csrf-token'] = c.csrf.replace(/[\r\n]/g, '') } catch { /* */ }
    const res = await h.app.inject({ method: c.method as 'GET', url: c.method === 'GET' ? '/api/v1/auth/me' : '/api/v1/admin/enroll-tokens', headers, ...(c.method === 'POST' ? { payload: { name: 'x' } } : {}) }).catch((err: Error) => ({ statusCode: 400, body: err.message }))
    if (res.statusCode >= 500 || ![401, 403, 400, 404].includes(res.statusCode)) throw new Error(`${c.method} with junk credentials → ${res.statusCode} ${res.body}`)
  }), { numRuns: 1_000_000, interruptAfterTimeLimit: SECONDS * 250, markInterruptAsFailure: false, endOnFailure: true })
  t.comment(`fuzzed ${cases} sign-in bodies and junk cookies`)
  t.ok(cases >= 100)
})
