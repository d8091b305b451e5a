/**
 * Sustained ingest of the real collector (auth, validation, SQLite store,
 * detection, incidents, live) as a ratio of a bare Fastify route with the same
 * body and the same TypeBox validation, measured in the same run with the same
 * process layout: the server in a child process (one core), this load generator
 * in another.
 *
 *   npx tsx bench/ingest-vs-fastify.ts [--seconds 15] [--warmup 3] [--agents 200]
 *                                      [--concurrency 16] [--batches 1,20] [--cpu-prof DIR]
 *
 * Prints reports/s for each server and batch size, the ratio, the server's CPU
 * and the load generator's (% of one core). Target: collector ≥ 50 % of the bare
 * route. The load generator is a lean keep-alive client (lib/lean-http.ts): on a
 * 2-core machine every microsecond it spends is taken from the server measured.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { spawnCollector, spawnReady } from './lib/child.js'
import { ProcSampler } from './lib/proc-stats.js'
import { LeanConnection } from './lib/lean-http.js'
import { fillTemplate, reportTemplates } from './lib/report-source.js'
import { enrollAgent, type Credentials } from './sim/link.js'
import { fixed, printBlock, sleep } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    agents: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    batches: { type: 'string', default: '1,20' },
    // Writes V8 CPU profiles of both servers into DIR/collector and DIR/bare (for finding hot spots).
    'cpu-prof': { type: 'string' }
  }
})
const SECONDS = Number(values.seconds)
const WARMUP = Number(values.warmup)
const AGENTS = Number(values.agents)
const CONCURRENCY = Number(values.concurrency)
const BATCHES = values.batches.split(',').map(Number)

interface Target { url: string, pid: number, creds: Credentials[] }
interface Result { reportsPerSec: number, requestsPerSec: number, cpuPct: number, loadCpuPct: number, errors: number, status: Record<number, number> }

const templates = reportTemplates(11, AGENTS)
const seqs = new Array<number>(AGENTS).fill(0)

async function load (target: Target, batch: number, seconds: number): Promise<Result> {
  const url = new URL('/api/v1/reports', target.url)
  const conns = await Promise.all(Array.from({ length: CONCURRENCY }, () => LeanConnection.open(url)))
  let reports = 0
  let requests = 0
  let errors = 0
  const status: Record<number, number> = {}
  let next = 0
  const sampler = new ProcSampler(target.pid, 500)
  const from = sampler.mark()
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const until = started + seconds * 1000
  async function worker (conn: LeanConnection): Promise<void> {
    while (performance.now() < until) {
      const i = next++ % AGENTS
      const c = target.creds[i]
      const now = new Date().toISOString()
      let body = '{"reports":['
      for (let k = 0; k < batch; k++) {
        if (k > 0) body += ','
        body += fillTemplate(templates[i], c.agentId, ++seqs[i], now, now)
      }
      body += ']}'
      const code = await conn.post(url.pathname, url.host, `authorization: Bearer ${c.agentToken}\r\n`, body).catch(() => 0)
      status[code] = (status[code] ?? 0) + 1
      if (code === 200) { reports += batch; requests++ } else errors++
      if (code === 0) return
    }
  }
  await Promise.all(conns.map(worker))
  const elapsed = (performance.now() - started) / 1000
  const lg = process.cpuUsage(cpu0)
  const cpu = sampler.summary(from)
  sampler.stop()
  for (const c of conns) c.close()
  return { reportsPerSec: reports / elapsed, requestsPerSec: requests / elapsed, cpuPct: cpu.cpuPct, loadCpuPct: 100 * (lg.user + lg.system) / 1e6 / elapsed, errors, status }
}

async function main (): Promise<void> {
  const prof = (name: string): { nodeArgs?: string[] } => values['cpu-prof'] === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', `${values['cpu-prof']}/${name}`] }
  const collector = await spawnCollector(prof('collector'))
  const bare = await spawnReady<{ url: string, pid: number }>('bench/lib/fastify-baseline-child.ts', {}, prof('bare'))
  try {
    const enrollAgentHttp = new http.Agent({ keepAlive: true, maxSockets: 8 })
    const creds: Credentials[] = []
    for (let i = 0; i < AGENTS; i++) creds.push(await enrollAgent(enrollAgentHttp, collector.ready.url, collector.ready.enrollToken, `bench-${i}`, `bench:${i}`))
    enrollAgentHttp.destroy()
    const targets: Record<'bare' | 'collector', Target> = {
      bare: { url: bare.ready.url, pid: bare.pid, creds },
      collector: { url: collector.ready.url, pid: collector.pid, creds }
    }
    process.stdout.write(`ingest-vs-fastify: ${AGENTS} agents, ${CONCURRENCY} concurrent keep-alive requests, ${SECONDS} s per phase after ${WARMUP} s warm-up; ${templates[0].parts.join('').length} bytes per report\n`)
    for (const batch of BATCHES) {
      const res: Partial<Record<'bare' | 'collector', Result>> = {}
      for (const name of ['bare', 'collector'] as const) {
        await load(targets[name], batch, WARMUP)
        await sleep(500)
        res[name] = await load(targets[name], batch, SECONDS)
      }
      const b = res.bare!
      const c = res.collector!
      printBlock(`batch of ${batch} report${batch > 1 ? 's' : ''} per request`, [
        ['bare Fastify (same schema)', `${fixed(b.reportsPerSec, 0)} reports/s  (${fixed(b.requestsPerSec, 0)} req/s, server CPU ${fixed(b.cpuPct, 0)} %, load generator ${fixed(b.loadCpuPct, 0)} %, errors ${b.errors})`],
        ['Vigie collector', `${fixed(c.reportsPerSec, 0)} reports/s  (${fixed(c.requestsPerSec, 0)} req/s, server CPU ${fixed(c.cpuPct, 0)} %, load generator ${fixed(c.loadCpuPct, 0)} %, errors ${c.errors} ${JSON.stringify(c.status)})`],
        ['ratio collector / bare', `${fixed(100 * c.reportsPerSec / b.reportsPerSec, 1)} %  (target ≥ 50 %)`]
      ])
    }
  } finally {
    await bare.stop()
    await collector.stop()
    collector.cleanup()
  }
}

main().catch((err: unknown) => { process.stderr.write(String((err as Error).stack ?? err) + '\n'); process.exit(1) })
