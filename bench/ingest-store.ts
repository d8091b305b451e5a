/**
 * Ingest throughput of the real collector with each metric store — embedded
 * SQLite and InfluxDB 1.x (through the durable outbox) — as a ratio of a bare
 * Fastify route with the same body and the same TypeBox validation, all
 * measured in the same run with the same process layout (server in a child
 * process, this load generator in another). For InfluxDB it also reports how
 * long the outbox took to drain after the load stopped.
 *
 *   npx tsx bench/ingest-store.ts [--seconds 10] [--warmup 3] [--agents 200]
 *                                 [--concurrency 16] [--batch 20]
 *
 * Needs /usr/bin/influxd (Debian package `influxdb`); a private one is started
 * on loopback with its data in a temp folder.
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { spawnCollector, spawnReady } from './lib/child.js'
import { ProcSampler } from './lib/proc-stats.js'
import { LeanConnection } from './lib/lean-http.js'
import { fillTemplate, reportTemplates } from './lib/report-source.js'
import { enrollAgent, type Credentials } from './sim/link.js'
import { fixed, printBlock, sleep } from './lib/stats.js'
import { startInfluxd } from '../test/helpers/influxd.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    agents: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '16' },
    batch: { type: 'string', default: '20' }
  }
})
const SECONDS = Number(values.seconds)
const WARMUP = Number(values.warmup)
const AGENTS = Number(values.agents)
const CONCURRENCY = Number(values.concurrency)
const BATCH = Number(values.batch)

interface Target { url: string, pid: number, creds: Credentials[] }
interface Result { reportsPerSec: number, cpuPct: number, errors: number, status: Record<number, number> }

const templates = reportTemplates(11, AGENTS)
const seqs = new Map<string, number>()

async function load (target: Target, seconds: number): Promise<Result> {
  const url = new URL('/api/v1/reports', target.url)
  const conns = await Promise.all(Array.from({ length: CONCURRENCY }, () => LeanConnection.open(url)))
  let reports = 0
  let errors = 0
  const status: Record<number, number> = {}
  let next = 0
  const sampler = new ProcSampler(target.pid, 500)
  const from = sampler.mark()
  const started = performance.now()
  const until = started + seconds * 1000
  async function worker (conn: LeanConnection): Promise<void> {
    while (performance.now() < until) {
      const i = next++ % AGENTS
      const c = target.creds[i]
      const now = new Date().toISOString()
      let body = '{"reports":['
      for (let k = 0; k < BATCH; k++) {
        const seq = (seqs.get(c.agentId) ?? 0) + 1
        seqs.set(c.agentId, seq)
        body += (k > 0 ? ',' : '') + fillTemplate(templates[i], c.agentId, seq, now, now)
      }
      body += ']}'
      const code = await conn.post(url.pathname, url.host, `authorization: Bearer ${c.agentToken}\r\n`, body).catch(() => 0)
      status[code] = (status[code] ?? 0) + 1
      if (code === 200) reports += BATCH
      else errors++
      if (code === 0) return
    }
  }
  await Promise.all(conns.map(worker))
  const elapsed = (performance.now() - started) / 1000
  const cpu = sampler.summary(from)
  sampler.stop()
  for (const c of conns) c.close()
  return { reportsPerSec: reports / elapsed, cpuPct: cpu.cpuPct, errors, status }
}

async function readyz (url: string): Promise<{ backlog?: number }> {
  const res = await fetch(new URL('/readyz', url))
  const body = await res.json() as { checks?: { metricStore?: { backlog?: number } } }
  return { backlog: body.checks?.metricStore?.backlog }
}

async function measure (name: string, target: Target): Promise<Result> {
  await load(target, WARMUP)
  await sleep(500)
  const r = await load(target, SECONDS)
  process.stdout.write(`  ${name}: ${fixed(r.reportsPerSec, 0)} reports/s\n`)
  return r
}

async function enrollAll (url: string, enrollToken: string): Promise<Credentials[]> {
  const a = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const creds: Credentials[] = []
  for (let i = 0; i < AGENTS; i++) creds.push(await enrollAgent(a, url, enrollToken, `bench-${i}`, `bench:${i}`))
  a.destroy()
  return creds
}

async function main (): Promise<void> {
  const teardown: Array<() => unknown> = []
  try {
    const influxd = await startInfluxd({ teardown: (fn) => { teardown.unshift(fn) } })
    const bare = await spawnReady<{ url: string, pid: number }>('bench/lib/fastify-baseline-child.ts', {})
    teardown.unshift(async () => { await bare.stop() })
    process.stdout.write(`ingest-store: ${AGENTS} agents, ${CONCURRENCY} concurrent requests of ${BATCH} reports, ${SECONDS} s per phase after ${WARMUP} s warm-up; ${templates[0].parts.join('').length} bytes per report\n`)

    const sqlite = await spawnCollector()
    teardown.unshift(async () => { await sqlite.stop(); sqlite.cleanup() })
    const sqliteCreds = await enrollAll(sqlite.ready.url, sqlite.ready.enrollToken)
    const rows: Array<[string, string]> = []
    const b = await measure('bare Fastify', { url: bare.ready.url, pid: bare.pid, creds: sqliteCreds })
    rows.push(['bare Fastify (same schema)', `${fixed(b.reportsPerSec, 0)} reports/s  (server CPU ${fixed(b.cpuPct, 0)} %)`])
    const s = await measure('collector + SQLite', { url: sqlite.ready.url, pid: sqlite.pid, creds: sqliteCreds })
    rows.push(['collector, SQLite store', `${fixed(s.reportsPerSec, 0)} reports/s = ${fixed(100 * s.reportsPerSec / b.reportsPerSec, 1)} % of bare  (CPU ${fixed(s.cpuPct, 0)} %, errors ${s.errors})`])
    await sqlite.stop()

    let influx
    try {
      influx = await spawnCollector({ env: { VIGIE_METRIC_STORE: 'influx', VIGIE_INFLUX_URL: influxd.url, VIGIE_INFLUX_DB: 'bench' } })
    } catch (err) {
      rows.push(['collector, InfluxDB store', `could not start: ${(err as Error).message.split('\n').find((l) => /influx/i.test(l)) ?? (err as Error).message.slice(0, 200)}`])
    }
    if (influx !== undefined) {
      const handle = influx
      teardown.unshift(async () => { await handle.stop(); handle.cleanup() })
      const creds = await enrollAll(handle.ready.url, handle.ready.enrollToken)
      const i = await measure('collector + InfluxDB', { url: handle.ready.url, pid: handle.pid, creds })
      const stopped = performance.now()
      const peak = (await readyz(handle.ready.url)).backlog ?? 0
      let backlog = peak
      while (backlog > 0 && performance.now() - stopped < 120_000) {
        await sleep(100)
        backlog = (await readyz(handle.ready.url)).backlog ?? 0
      }
      rows.push(['collector, InfluxDB store', `${fixed(i.reportsPerSec, 0)} reports/s = ${fixed(100 * i.reportsPerSec / b.reportsPerSec, 1)} % of bare  (CPU ${fixed(i.cpuPct, 0)} %, errors ${i.errors} ${JSON.stringify(i.status)})`])
      rows.push(['InfluxDB outbox after the load', `${peak} points waiting, drained in ${fixed((performance.now() - stopped) / 1000, 1)} s${backlog > 0 ? ` (NOT drained: ${backlog} left)` : ''}`])
    }
    printBlock(`batch of ${BATCH} reports per request`, rows)
  } finally {
    for (const fn of teardown) await fn()
  }
}

main().catch((err: unknown) => { process.stderr.write(String((err as Error).stack ?? err) + '\n'); process.exit(1) })
