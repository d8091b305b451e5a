/**
 * Delivery rules of a real agent (createAgent, in this process) against real
 * servers: Retry-After on 503/429 is honoured, drops from a bounded spool are
 * counted and reported, and the inventory's app list is sent only when it changed.
 */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t from 'tap'
import type { Report } from '../../protocol/index.js'
import { createAgent } from '../../agent/agent.js'
import { loadAgentConfig, type AgentConfig } from '../../agent/config.js'
import { probeFor } from '../../agent/probes/registry.js'
import type { Probe } from '../../agent/probes/probe.js'
import type { CommandResult } from '../../agent/probes/run-command.js'
import { api, ENROLL_TOKEN, freePort, inProcessCollector, memoryLogger, waitFor } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

const FIX = path.resolve(import.meta.dirname, '..', 'fixtures', 'agent')


function config (over: Partial<AgentConfig>): AgentConfig {
  return { ...loadAgentConfig({}, { env: {} }), intervalSec: 1, transport: 'http', logLevel: 'silent', ...over }
}

t.test('after 503 Retry-After: 2 and 429 Retry-After: 1 the agent waits that long, then delivers everything', async t => {
  const attempts: Array<{ atMs: number, seqs: number[] }> = []
  const stored = new Set<number>()
  const answers = [{ status: 503, retryAfter: '2' }, { status: 429, retryAfter: '1' }]
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const json = (status: number, obj: unknown, headers: Record<string, string> = {}): void => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(obj)) }
      if (req.url === '/api/v1/enroll') { json(200, { agentId: 'm_retry', agentToken: 'vga_x', protocolVersion: 1, reportIntervalSec: 1, serverTime: new Date().toISOString() }); return }
      const seqs = (JSON.parse(body) as { reports: Report[] }).reports.map(r => r.seq)
      attempts.push({ atMs: Date.now(), seqs })
      const a = answers.shift()
      if (a !== undefined) { json(a.status, { statusCode: a.status, code: 'VIGIE_ERR_BUSY', error: 'Busy', message: 'try later' }, { 'retry-after': a.retryAfter }); return }
      for (const s of seqs) stored.add(s)
      json(200, { stored: seqs, duplicates: [], serverTime: new Date().toISOString() })
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const { log } = memoryLogger()
  const agent = createAgent(config({ collectorUrl: url, enrollToken: ENROLL_TOKEN, stateDir: tempDir(t, 'vigie-delivery-') }), { log, probes: [probeFor('memory')] })
  t.teardown(async () => { await agent.stop() })
  await agent.start()
  await waitFor('a successful delivery', () => attempts.length >= 3 && agent.spooled === 0, 20_000)
  t.ok(attempts[1].atMs - attempts[0].atMs >= 2000, `second attempt ${attempts[1].atMs - attempts[0].atMs} ms after the 503 (Retry-After: 2)`)
  t.ok(attempts[2].atMs - attempts[1].atMs >= 1000, `third attempt ${attempts[2].atMs - attempts[1].atMs} ms after the 429 (Retry-After: 1)`)
  t.equal(attempts[0].seqs[0], 1, 'the first report is the first one sent')
  t.ok(stored.has(1), 'the refused report was delivered later, not lost')
  t.same(attempts[2].seqs, [...attempts[2].seqs].sort((a, b) => a - b), 'oldest first')
})

t.test('reports dropped by a full spool during an outage are counted and reported to the collector', async t => {
  const dir = tempDir(t, 'vigie-delivery-')
  const dataDir = path.join(dir, 'collector')
  const port = await freePort()
  let collector = await inProcessCollector(dataDir, port)
  const adminToken = collector.adminToken!
  t.teardown(async () => { await collector.close() })
  const { log } = memoryLogger()
  // One report of this agent is ~700 bytes: a 7 kB spool holds about ten.
  const agent = createAgent(config({ collectorUrl: collector.url, enrollToken: ENROLL_TOKEN, stateDir: path.join(dir, 'agent'), spoolMaxBytes: 7000 }), { log, probes: [probeFor('memory')] })
  await agent.start()
  t.teardown(async () => { await agent.stop() })
  await collector.close()
  for (let i = 0; i < 30; i++) await agent.collectOnce()
  t.ok(agent.spooled <= 11, `${agent.spooled} reports kept`)
  collector = await inProcessCollector(dataDir, port)
  await agent.flush()
  const m = await waitFor('the backlog delivered', async () => {
    await agent.flush()
    const x = await api<{ droppedReports: number, lastSeq: number }>(collector.url, adminToken, `/api/v1/machines/${agent.agentId!}`)
    return agent.spooled === 0 ? x : undefined
  }, 30_000, 300)
  t.ok(m.droppedReports >= 19, `the collector knows ${m.droppedReports} reports were dropped`)
  t.ok(m.lastSeq >= 31, `the newest reports arrived (last seq ${m.lastSeq})`)
})

t.test('the app list is sent when it changed since the collector acknowledged one, and only the hash otherwise', async t => {
  const dir = tempDir(t, 'vigie-delivery-')
  const collector = await inProcessCollector(path.join(dir, 'collector'))
  t.teardown(async () => { await collector.close() })
  let dpkg = fs.readFileSync(path.join(FIX, 'inventory', 'dpkg-query.txt'), 'utf8')
  const run = async (file: string): Promise<CommandResult> => ({ code: 0, stdout: file === 'dpkg-query' ? dpkg : '', stderr: '' })
  const probes = (): Probe[] => [{ ...probeFor('inventory', 'linux', { root: path.join(FIX, 'linux-laptop'), run }), everySec: 0 }]
  const cfg = config({ collectorUrl: collector.url, enrollToken: ENROLL_TOKEN, stateDir: path.join(dir, 'agent') })
  const { log } = memoryLogger()
  let agent = createAgent(cfg, { log, probes: probes() })
  await agent.start()
  const id = agent.agentId!
  const inv = async (): Promise<{ apps: unknown[], changes: Array<{ name: string, fromVersion?: string | null, toVersion?: string | null }> }> => await api(collector.url, collector.adminToken!, `/api/v1/machines/${id}/inventory`)
  await waitFor('the first inventory stored', async () => (await inv()).apps.length === 40)
  const second = await agent.collectOnce()
  t.equal(second.inventory?.apps, undefined, 'unchanged: hash only')
  t.equal(second.inventory?.pendingUpdates, 17)
  dpkg = dpkg.replace(/^(ii \tbash\t)(\S+)$/m, '$1$2+security1')
  const third = await agent.collectOnce()
  t.equal(third.inventory?.apps?.length, 40, 'changed: the full list')
  t.not(third.inventory?.hash, second.inventory?.hash)
  await agent.flush()
  const changes = (await inv()).changes
  t.ok(changes.some(c => c.name === 'bash'), `the collector recorded the bash upgrade: ${JSON.stringify(changes.slice(0, 3))}`)
  await agent.stop()
  agent = createAgent(cfg, { log, probes: probes() })
  t.teardown(async () => { await agent.stop() })
  await agent.start()
  const afterRestart = await agent.collectOnce()
  t.equal(afterRestart.inventory?.apps, undefined, 'the acknowledged hash survives a restart')
})
