/**
 * Replay after an outage: N agents (default 10,000) each come back with 10–30
 * spooled reports and flush them (batches of up to 100 per frame) as soon as the
 * collector is back. Measures the replay's reports/s and total seconds, against
 * the steady-state rate measured in the same run (the same fleet reporting every
 * 30 s, before the outage) and the real-time rate the fleet produces.
 *
 *   npx tsx bench/backlog-replay.ts [--agents 10000] [--min 10] [--max 30] [--steady-seconds 60]
 */
import { parseArgs } from 'node:util'
import { spawnCollector } from './lib/child.js'
import { ProcSampler } from './lib/proc-stats.js'
import { startSimulation } from './sim/simulation.js'
import { fixed, mib, percentile, printBlock, sleep } from './lib/stats.js'

const { values } = parseArgs({ options: { agents: { type: 'string', default: '10000' }, min: { type: 'string', default: '10' }, max: { type: 'string', default: '30' }, 'steady-seconds': { type: 'string', default: '60' }, interval: { type: 'string', default: '30' } } })
const AGENTS = Number(values.agents)
const INTERVAL = Number(values.interval)
const log = (m: string): void => { process.stderr.write(`backlog-replay: ${m}\n`) }

const c = await spawnCollector()
try {
  const credentialsFile = `${c.dataDir}/sim-credentials.json`
  // Phase 1, steady state: the fleet reports in real time; measure the collector's CPU per report.
  const steady = await startSimulation({
    collectorUrl: c.ready.url, enrollToken: c.ready.enrollToken, agents: AGENTS, seed: 5,
    scenario: { name: 'steady', fleet: { schedule: 'always-on' }, faults: [] },
    intervalSec: INTERVAL, transport: 'ws', enrollConcurrency: 32, connectConcurrency: 256, credentialsFile, log
  })
  await sleep(INTERVAL * 1000)
  const s1 = new ProcSampler(c.pid, 1000)
  const storedBefore = steady.stats().reportsStored
  const t1 = Date.now()
  await sleep(Number(values['steady-seconds']) * 1000)
  const steadyRate = (steady.stats().reportsStored - storedBefore) / ((Date.now() - t1) / 1000)
  const steadyCpu = s1.summary()
  s1.stop()
  await steady.stop()

  // Phase 2, outage then replay: every agent holds 10–30 reports and sends them when the collector is back.
  // The agents reconnect at once (connectFirst), which is what a collector restart looks like.
  const replayStart = Date.now()
  const s2 = new ProcSampler(c.pid, 1000)
  let total = 0
  const replay = await startSimulation({
    collectorUrl: c.ready.url, enrollToken: c.ready.enrollToken, agents: AGENTS, seed: 5,
    scenario: { name: 'replay', fleet: { schedule: 'always-on' }, faults: [] },
    intervalSec: INTERVAL, transport: 'ws', backlog: { min: Number(values.min), max: Number(values.max) },
    maxBatch: 100, connectConcurrency: 256, credentialsFile, connectFirst: false, phaseOffsetMs: INTERVAL * 500,
    onAck: (_i, reports) => { total += reports.length }, log
  })
  await replay.caughtUp(900_000)
  const seconds = (Date.now() - replayStart) / 1000
  const cpu = s2.summary()
  s2.stop()
  const lat = replay.stats().ackLatencyMs
  await replay.stop()
  const replayRate = total / seconds
  const capacity = steadyRate / Math.max(1e-9, steadyCpu.cpuPct / 100)
  printBlock(`backlog-replay: ${AGENTS} agents with ${values.min}–${values.max} spooled reports each`, [
    ['reports replayed', String(total)],
    ['total time (reconnect + replay)', `${fixed(seconds)} s`],
    ['replay rate', `${fixed(replayRate, 0)} reports/s, collector CPU ${fixed(cpu.cpuPct)} %, RSS peak ${mib(cpu.peakRssBytes)}`],
    ['steady-state rate (same run)', `${fixed(steadyRate, 1)} reports/s at ${fixed(steadyCpu.cpuPct)} % CPU → ${fixed(capacity, 0)} reports/s per core extrapolated`],
    ['replay / steady-state rate', `${fixed(replayRate / steadyRate, 1)} ×`],
    ['replay / steady CPU capacity', `${fixed(100 * replayRate / capacity, 1)} %`],
    ['fleet real-time rate', `${fixed(AGENTS / INTERVAL, 1)} reports/s: an outage of T is caught up in about T / ${fixed(replayRate / (AGENTS / INTERVAL), 1)}`],
    ['frame ack p50 / p99', `${fixed(percentile(lat, 50))} / ${fixed(percentile(lat, 99))} ms`]
  ])
} finally {
  await c.stop(30_000)
  c.cleanup()
}
