/**
 * 10,000 concurrent agent WebSockets on one collector: each simulated agent holds
 * its own socket and reports every 30 s (spread evenly), for a bounded time.
 * Prints collector RSS per connected agent, total RSS (target < 2 GB), CPU, and
 * ack latency p50/p99. The baseline in the same run is the collector's own RSS
 * before any agent connected and the offered rate (agents / interval).
 *
 *   npx tsx bench/ws-scale.ts [--agents 10000] [--interval 30] [--minutes 3]
 */
import { parseArgs } from 'node:util'
import { runFleet } from './lib/fleet-run.js'
import { fixed, mib, percentile, printBlock } from './lib/stats.js'

const { values } = parseArgs({ options: { agents: { type: 'string', default: '10000' }, interval: { type: 'string', default: '30' }, minutes: { type: 'string', default: '3' } } })
const agents = Number(values.agents)
const interval = Number(values.interval)

const r = await runFleet({ agents, intervalSec: interval, measureMs: Number(values.minutes) * 60_000, log: (m) => { process.stderr.write(`ws-scale: ${m}\n`) } })
const offered = agents / interval
printBlock(`ws-scale: ${agents} agents, one WebSocket each, a report every ${interval} s, measured ${values.minutes} min`, [
  ['connected (sim / collector)', `${r.connected} / ${r.streamsOnCollector}`],
  ['enroll + connect', `${fixed(r.enrollSec)} s`],
  ['collector RSS before agents', mib(r.baseRssBytes)],
  ['collector RSS steady / peak', `${mib(r.steadyRssBytes)} / ${mib(r.peakRssBytes)}  (target < 2048 MiB)`],
  ['RSS per connected agent', `${fixed((r.steadyRssBytes - r.baseRssBytes) / Math.max(1, r.connected) / 1024, 1)} KiB`],
  ['collector CPU', `${fixed(r.cpuPct)} % of one core`],
  ['reports acknowledged', `${fixed(r.reportsPerSec)} /s (offered ${fixed(offered)} /s, ratio ${fixed(100 * r.reportsPerSec / offered)} %)`],
  ['CPU per report', `${fixed(10 * r.cpuPct / Math.max(1e-9, r.reportsPerSec), 3)} ms`],
  ['ack latency p50 / p99 / max', `${fixed(percentile(r.ackMs, 50))} / ${fixed(percentile(r.ackMs, 99))} / ${fixed(percentile(r.ackMs, 100))} ms`],
  ['errors', JSON.stringify(r.errors)]
])
