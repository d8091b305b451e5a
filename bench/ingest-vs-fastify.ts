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
 * Prints reports/s for each server and batch size, the ratio, and the server's
 * CPU (% of one core). Target: collector ≥ 50 % of the bare route.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { spawnCollector, spawnReady } from './lib/child.js'
import { ProcSampler } from './lib/proc-stats.js'
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
    // Writes a V8 CPU profile of the collector into this folder (for finding hot spots).
    'cpu-prof': { type: 'string' }
  }
})
const SECONDS = Number(values.seconds)
const WARMUP = Number(values.warmup)
const AGENTS = Number(values.agents)
const CONCURRENCY = Number(values.concurrency)
const BATCHES = values.batches.split(',').map(Number)

interface Target { url: string, pid: number, creds: Credentials[] }
interface Result { reportsPerSec: number, requestsPerSec: number, cpuPct: number, errors: number, status: Record<number, number> }

const templates = reportTemplates(11, AGENTS)
const seqs = new Array<number>(AGENTS).fill(0)

async function load (target: Target, batch: number, seconds: number): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
  const url = new URL('/api/v1/reports', target.url)
  let reports = 0
  let requests = 0
  let errors = 0
  const status: Record<number, number> = {}
  let next = 0
  const sampler = new ProcSampler(target.pid, 500)
  const from = sampler.mark()
  const started = performance.now()
  const until = started + seconds * 1000
  async function worker (): Promise<void> {
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
      const code = await new Promise<number>((resolve) => {
        const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${c.agentToken}` } }, (res) => {
          res.resume()
          res.on('end', () => { resolve(res.statusCode ?? 0) })
        })
        req.on('error', () => { resolve(0) })
        req.end(body)
      })
      status[code] = (status[code] ?? 0) + 1
      if (code === 200) { reports += batch; requests++ } else errors++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()))
  const elapsed = (performance.now() - started) / 1000
  const cpu = sampler.summary(from)
  sampler.stop()
  agent.destroy()
  return { reportsPerSec: reports / elapsed, requestsPerSec: requests / elapsed, cpuPct: cpu.cpuPct, errors, status }
}

async function main (): Promise<void> {
  const collector = await spawnCollector(values['cpu-prof'] === undefined ? {} : { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] })
  const bare = await spawnReady<{ url: string, pid: number }>('bench/lib/fastify-baseline-child.ts', {})
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
        ['bare Fastify (same schema)', `${fixed(b.reportsPerSec, 0)} reports/s  (${fixed(b.requestsPerSec, 0)} req/s, server CPU ${fixed(b.cpuPct, 0)} %, errors ${b.errors})`],
        ['Vigie collector', `${fixed(c.reportsPerSec, 0)} reports/s  (${fixed(c.requestsPerSec, 0)} req/s, server CPU ${fixed(c.cpuPct, 0)} %, errors ${c.errors} ${JSON.stringify(c.status)})`],
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
