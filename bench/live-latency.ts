/**
 * Latency from "report received by the collector" to "live event delivered to a
 * dashboard WebSocket", under the ws-scale load (default 10,000 agents reporting
 * every 30 s). The dashboard client subscribes to /api/v1/live; each `machine`
 * event carries lastSeenAt, the collector's receive time of the report, so
 * latency = arrival at the dashboard − lastSeenAt (same host, same clock).
 * Compared against the hub's batching interval (250 ms), the floor in the same run.
 *
 *   npx tsx bench/live-latency.ts [--agents 10000] [--interval 30] [--minutes 2]
 */
import { parseArgs } from 'node:util'
import { runFleet } from './lib/fleet-run.js'
import { fixed, percentile, printBlock } from './lib/stats.js'

const { values } = parseArgs({ options: { agents: { type: 'string', default: '10000' }, interval: { type: 'string', default: '30' }, minutes: { type: 'string', default: '2' } } })
const agents = Number(values.agents)
const r = await runFleet({ agents, intervalSec: Number(values.interval), measureMs: Number(values.minutes) * 60_000, live: true, log: (m) => { process.stderr.write(`live-latency: ${m}\n`) } })
const FLUSH_MS = 250
printBlock(`live-latency: ${agents} agents every ${values.interval} s, one dashboard client, measured ${values.minutes} min`, [
  ['live machine events received', `${r.liveEvents} (${fixed(r.liveEvents / (Number(values.minutes) * 60))} /s; reports acked ${fixed(r.reportsPerSec)} /s)`],
  ['report received → dashboard p50', `${fixed(percentile(r.liveMs, 50))} ms`],
  ['report received → dashboard p99', `${fixed(percentile(r.liveMs, 99))} ms  (target < 1000 ms)`],
  ['max', `${fixed(percentile(r.liveMs, 100))} ms`],
  ['p50 vs the hub batching floor', `${fixed(percentile(r.liveMs, 50) / FLUSH_MS, 2)} × ${FLUSH_MS} ms`],
  ['collector CPU / RSS', `${fixed(r.cpuPct)} % / ${(r.steadyRssBytes / 1024 / 1024).toFixed(0)} MiB`],
  ['agent ack p99', `${fixed(percentile(r.ackMs, 99))} ms`]
])
