/**
 * Sustained ingest of the real collector (auth, validation, SQLite store,
 * detection, incidents, live) as a ratio of a bare Fastify route with the same
 * body and the same TypeBox validation, measured in the same run with the same
 * process layout: the server in a child process (one core), this load generator
 * in another.
 *
 *   npx tsx bench/ingest-vs-fastify.ts [--seconds 15] [--rounds 5] [--warmup 3] [--agents 200]
 *                                      [--concurrency 16] [--batches 1,20] [--cpu-prof DIR]
 *
 * The two servers are loaded in turn, `--rounds` times (bare, collector, bare,
 * collector, …; `--seconds` is split over the rounds), and each round gives one
 * ratio: a machine whose background load changes during the run shifts both
 * sides of a round alike. Prints, per batch size, the median ratio of the rounds
 * with their range, reports/s of each server (sum over the rounds), the servers'
 * CPU time per report (µs, the figure least moved by other processes), and the
 * load generator's CPU. Target: collector ≥ 50 % of the bare route. The load generator is a lean keep-alive client (lib/lean-http.ts): on a
 * 2-core machine every microsecond it spends is taken from the server measured.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { spawnCollector, spawnReady } from './lib/child.js'
import { ProcSampler } from './lib/proc-stats.js'
import { LeanConnection } from './lib/lean-http.js'
import { fillTemplate, reportTemplates } from './lib/report-source.js'
import { enrollAgent, type Credentials } from './sim/link.js'
import { fixed, percentile, printBlock, sleep } from './lib/stats.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
    agents: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    batches: { type: 'string', default: '1,20' },
    // Writes V8 CPU profiles of both servers into DIR/collector and DIR/bare (for finding hot spots).
    'cpu-prof': { type: 'string' }
  }
})
const SECONDS = Number(values.seconds)
const ROUNDS = Math.max(1, Number(values.rounds))
const WARMUP = Number(values.warmup)
const AGENTS = Number(values.agents)
const CONCURRENCY = Number(values.concurrency)
const BATCHES = values.batches.split(',').map(Number)

interface Target { url: string, pid: number, creds: Credentials[] }
interface Result { reports: number, requests: number, seconds: number, cpuSec: number, loadCpuSec: number, errors: number, status: Record<number, number> }

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
  return { reports, requests, seconds: elapsed, cpuSec: cpu.cpuSec, loadCpuSec: (lg.user + lg.system) / 1e6, errors, status }
}

function sum (rs: readonly Result[]): Result {
  const status: Record<number, number> = {}
  for (const r of rs) for (const [k, v] of Object.entries(r.status)) status[Number(k)] = (status[Number(k)] ?? 0) + v
  const add = (f: (r: Result) => number): number => rs.reduce((a, r) => a + f(r), 0)
  return { reports: add(r => r.reports), requests: add(r => r.requests), seconds: add(r => r.seconds), cpuSec: add(r => r.cpuSec), loadCpuSec: add(r => r.loadCpuSec), errors: add(r => r.errors), status }
}

function line (r: Result): string {
  return `${fixed(r.reports / r.seconds, 0)} reports/s  (${fixed(r.requests / r.seconds, 0)} req/s, server CPU ${fixed(1e6 * r.cpuSec / r.reports, 0)} µs/report = ${fixed(100 * r.cpuSec / r.seconds, 0)} % of a core, load generator ${fixed(100 * r.loadCpuSec / r.seconds, 0)} %, errors ${r.errors} ${JSON.stringify(r.status)})`
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
      for (const name of ['bare', 'collector'] as const) await load(targets[name], batch, WARMUP)
      const rounds: Record<'bare' | 'collector', Result[]> = { bare: [], collector: [] }
      const ratios: number[] = []
      for (let r = 0; r < ROUNDS; r++) {
        for (const name of ['bare', 'collector'] as const) {
          await sleep(300)
          rounds[name].push(await load(targets[name], batch, SECONDS / ROUNDS))
        }
        const b = rounds.bare[r]
        const c = rounds.collector[r]
        ratios.push(100 * (c.reports / c.seconds) / (b.reports / b.seconds))
      }
      const sorted = [...ratios].sort((x, y) => x - y)
      printBlock(`batch of ${batch} report${batch > 1 ? 's' : ''} per request, ${ROUNDS} rounds`, [
        ['bare Fastify (same schema)', line(sum(rounds.bare))],
        ['Vigie collector', line(sum(rounds.collector))],
        ['ratio collector / bare', `${fixed(percentile(ratios, 50), 1)} % median of ${ROUNDS} rounds (range ${fixed(sorted[0], 1)}–${fixed(sorted[sorted.length - 1], 1)} %; target ≥ 50 %)`]
      ])
    }
  } finally {
    await bare.stop()
    await collector.stop()
    collector.cleanup()
  }
}

main().catch((err: unknown) => { process.stderr.write(String((err as Error).stack ?? err) + '\n'); process.exit(1) })
