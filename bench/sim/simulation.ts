/**
 * startSimulation(opts): N simulated agents in this process, enrolled and
 * reporting to a real collector over its real HTTP/WebSocket paths, on a simulated
 * clock (real time, accelerated, or a backfilled history followed by real time).
 *
 * Clock: the agent sets `agentClock` to the real time of sending and `sampledAt`
 * to the simulated sample time. The collector only corrects sample times when
 * agentClock is more than CLOCK_SKEW_TOLERANCE_MS off its own clock, so samples
 * keep their simulated times. Accelerated runs are placed in the past
 * (they end at the real now) so no sample is ever in the future.
 */
import http from 'node:http'
import fs from 'node:fs'
import type { Report } from '../../protocol/index.js'
import { hostFactsOf, installedApps, inventoryHash, isOnline, machineState, metricsOf, unavailableOf, type FaultEffect } from './behaviour.js'
import { placeFaults, type InjectedFault } from './faults.js'
import { createFleet, type MachineProfile } from './fleet.js'
import { AgentLink, enrollAgent, Gate, LinkError, type Credentials } from './link.js'
import { hashInts } from './rng.js'
import { loadScenario, type Scenario } from './scenario.js'
import { faultTruth, machineTruth, writeTruth, type TruthRecord } from './truth.js'

/**
 * seq = seconds of the sample time since the agent's own epoch, a second before its
 * first sample: strictly increasing per agent, starting near 1 as a real agent's does
 * (the collector refuses a first seq far above the ledger), and stable across
 * simulator restarts (the epoch is kept with the credentials). Credentials saved
 * before there was an epoch keep this fixed one.
 */
const LEGACY_SEQ_EPOCH_S = 1_577_836_800 // 2020-01-01T00:00:00Z

export interface SimulationOptions {
  collectorUrl: string
  enrollToken: string
  agents: number
  seed: number
  /** a scenario, or the path of a scenario file; default: a healthy office fleet */
  scenario?: Scenario | string
  /** seconds between reports (default 30) */
  intervalSec?: number
  /** stop after this much real time, ms; default: run until stop() */
  durationMs?: number
  /** simulated seconds per real second (default 1) */
  speed?: number
  /** first simulated sample time, epoch ms (default: see the clock rule above) */
  startMs?: number
  /** generate this much history before now and send it as batches, then continue in real time */
  backfillMs?: number
  /** spacing of the backfilled samples, seconds (default intervalSec) */
  backfillIntervalSec?: number
  /** shifts every agent's report grid by this much, ms (so a second run's samples do not collide with a first run's) */
  phaseOffsetMs?: number
  /** each agent starts with between min and max overdue reports (an outage backlog) */
  backlog?: { min: number, max: number }
  transport?: 'ws' | 'http'
  /** ground-truth JSONL file */
  truthFile?: string
  /** reports per frame/batch at most (default 100) */
  maxBatch?: number
  /** keep agent credentials here and reuse them on the next run (same collector) */
  credentialsFile?: string
  /** open every agent's stream before the clock starts (default true for ws) */
  connectFirst?: boolean
  /** close an agent's stream while its machine is off (default true) */
  disconnectWhenOff?: boolean
  /** scheduler period, ms (default 100) */
  tickMs?: number
  /** concurrent WebSocket handshakes / enrollments (default 200 / 16) */
  connectConcurrency?: number
  enrollConcurrency?: number
  /** called on every acknowledgement (benchmarks) */
  onAck?: (agentIndex: number, reports: readonly Report[], latencyMs: number) => void
  log?: (msg: string) => void
}

export interface SimAgent {
  index: number
  machineId: string
  hostname: string
  profile: MachineProfile
}

export interface SimStats {
  agents: number
  connected: number
  framesSent: number
  reportsGenerated: number
  reportsStored: number
  reportsDuplicate: number
  reportsQueued: number
  errors: Record<string, number>
  /** real ms between sending a frame and its acknowledgement, every frame (bounded sample) */
  ackLatencyMs: number[]
  /** true when every agent has sent everything due up to the simulated now */
  caughtUp: boolean
}

export interface Simulation {
  agents: SimAgent[]
  faults: InjectedFault[]
  truth: TruthRecord[]
  /** the simulated clock, epoch ms */
  now: () => number
  simStartMs: number
  stats: () => SimStats
  /** resolves once every agent is caught up and nothing is in flight (bounded by timeoutMs) */
  caughtUp: (timeoutMs?: number) => Promise<void>
  /** resolves when durationMs has elapsed and in-flight batches are settled */
  done: Promise<void>
  stop: () => Promise<void>
}

interface AgentRt {
  index: number
  m: MachineProfile
  creds: Credentials
  link: AgentLink
  effects: FaultEffect[]
  nextMs: number
  queue: Report[]
  inflight: boolean
  retryAtReal: number
  attempt: number
  lastInvHash: string
  reenrolled: boolean
}

const MAX_LATENCY_SAMPLES = 500_000

export async function startSimulation (opts: SimulationOptions): Promise<Simulation> {
  const log = opts.log ?? (() => {})
  const scenario: Scenario = typeof opts.scenario === 'string' ? loadScenario(opts.scenario) : (opts.scenario ?? { name: 'healthy', faults: [] })
  const intervalMs = Math.round((opts.intervalSec ?? 30) * 1000)
  const backfillStepMs = Math.round((opts.backfillIntervalSec ?? opts.intervalSec ?? 30) * 1000)
  const speed = opts.speed ?? 1
  const transport = opts.transport ?? 'ws'
  const maxBatch = Math.min(500, opts.maxBatch ?? 100)
  if (speed !== 1 && opts.backfillMs !== undefined) throw new Error('backfill runs in real time: do not combine it with a speed other than 1')
  if (!(speed > 0)) throw new Error('speed must be positive')
  const baseUrl = opts.collectorUrl.replace(/\/+$/, '')

  const callMs = Date.now()
  let simStartMs: number
  if (opts.startMs !== undefined) simStartMs = opts.startMs
  else if (opts.backfillMs !== undefined) simStartMs = callMs - opts.backfillMs
  else if (speed > 1 && opts.durationMs !== undefined) simStartMs = callMs - opts.durationMs * (speed - 1)
  else simStartMs = callMs
  const liveFromMs = opts.backfillMs !== undefined ? callMs : -Infinity

  const fleet = createFleet(opts.seed, opts.agents, scenario.fleet)
  const placed = placeFaults(scenario, fleet, opts.seed, simStartMs)
  const disconnectWhenOff = opts.disconnectWhenOff ?? true

  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const enrollGate = new Gate(opts.enrollConcurrency ?? 16)
  const connectGate = new Gate(opts.connectConcurrency ?? 200)

  // ---- enrollment (credentials reused from an earlier run when given) ----
  const saved = new Map<number, Credentials>()
  if (opts.credentialsFile !== undefined && fs.existsSync(opts.credentialsFile)) {
    try {
      const c = JSON.parse(fs.readFileSync(opts.credentialsFile, 'utf8')) as { collectorUrl: string, seed: number, agents: Array<Credentials & { index: number }> }
      if (c.collectorUrl === baseUrl && c.seed === opts.seed) for (const a of c.agents) saved.set(a.index, { agentId: a.agentId, agentToken: a.agentToken, seqEpochS: a.seqEpochS ?? LEGACY_SEQ_EPOCH_S })
    } catch { /* unreadable: enroll again */ }
  }
  const firstSampleS = Math.floor(simStartMs / 1000) - 1
  const creds = await Promise.all(fleet.map(m => saved.get(m.index) ?? enrollGate.run(async () => ({ ...await enrollAgent(httpAgent, baseUrl, opts.enrollToken, m.hostname, m.machineKey), seqEpochS: firstSampleS }))))
  if (opts.credentialsFile !== undefined) {
    fs.writeFileSync(opts.credentialsFile, JSON.stringify({ collectorUrl: baseUrl, seed: opts.seed, agents: creds.map((c, index) => ({ index, ...c })) }), { mode: 0o600 })
  }
  log(`enrolled ${creds.length} agents`)

  const rts: AgentRt[] = fleet.map((m, i) => {
    // Spread the agents evenly over the interval, then align each one's grid at or after the start.
    const phase = Math.floor(i * intervalMs / Math.max(1, fleet.length)) + (opts.phaseOffsetMs ?? 0)
    const step = simStartMs < liveFromMs ? backfillStepMs : intervalMs
    let first = simStartMs + ((((phase - simStartMs) % step) + step) % step)
    if (opts.backlog !== undefined) {
      const n = opts.backlog.min + (hashInts(opts.seed, i, 0xb10c) % (opts.backlog.max - opts.backlog.min + 1))
      first -= n * step
    }
    return {
      index: i,
      m,
      creds: creds[i],
      link: new AgentLink({ baseUrl, credentials: creds[i], transport, httpAgent, gate: connectGate }),
      effects: placed.effects.get(i) ?? [],
      nextMs: first,
      queue: [],
      inflight: false,
      retryAtReal: 0,
      attempt: 0,
      lastInvHash: '',
      reenrolled: false
    }
  })

  const truth: TruthRecord[] = [
    {
      type: 'run',
      seed: opts.seed,
      agents: opts.agents,
      scenario: scenario.name,
      simStartAt: new Date(simStartMs).toISOString(),
      speed,
      intervalSec: intervalMs / 1000,
      transport,
      schedule: scenario.fleet?.schedule ?? 'office',
      createdAt: new Date(callMs).toISOString()
    },
    ...fleet.map(m => machineTruth(m, creds[m.index].agentId, placed.faults)),
    ...placed.faults.map(f => { f.machineId = creds[f.machineIndex].agentId; return faultTruth(f, creds[f.machineIndex].agentId) })
  ]
  if (opts.truthFile !== undefined) writeTruth(opts.truthFile, truth)

  if (transport === 'ws' && (opts.connectFirst ?? true)) {
    let failed = 0
    await Promise.all(rts.map(a => a.link.open().catch(() => { failed++ })))
    log(`opened ${rts.length - failed} streams${failed > 0 ? ` (${failed} failed; they retry)` : ''}`)
  }

  // ---- the clock ----
  const loopStartReal = Date.now()
  const now = speed === 1 && opts.startMs === undefined
    ? () => Date.now()
    : () => simStartMs + (Date.now() - loopStartReal) * speed
  const endReal = opts.durationMs === undefined ? Infinity : loopStartReal + opts.durationMs

  const stats = {
    framesSent: 0, reportsGenerated: 0, reportsStored: 0, reportsDuplicate: 0,
    errors: {} as Record<string, number>, ackLatencyMs: [] as number[], latencySeen: 0
  }
  const countError = (k: string): void => { stats.errors[k] = (stats.errors[k] ?? 0) + 1 }
  let inflight = 0

  function buildReport (a: AgentRt, t: number): Report {
    const s = machineState(a.m, t, a.effects)
    const apps = installedApps(a.m, t, a.effects)
    const hash = inventoryHash(apps)
    const report: Report = {
      v: 1,
      agentId: a.creds.agentId,
      seq: Math.floor(t / 1000) - (a.creds.seqEpochS ?? LEGACY_SEQ_EPOCH_S),
      sampledAt: new Date(t).toISOString(),
      agentClock: '',
      host: hostFactsOf(a.m, t),
      metrics: metricsOf(a.m, s, t),
      unavailable: unavailableOf(a.m),
      inventory: hash !== a.lastInvHash ? { hash, apps } : { hash },
      droppedReports: 0
    }
    a.lastInvHash = hash
    stats.reportsGenerated++
    return report
  }

  function online (a: AgentRt, t: number): boolean {
    if (!isOnline(a.m, t)) return false
    for (const e of a.effects) if (e.silent?.(t) === true) return false
    return true
  }

  function fill (a: AgentRt, simNow: number): void {
    let guard = 0
    while (a.queue.length < maxBatch && a.nextMs <= simNow && guard++ < 20_000) {
      const t = a.nextMs
      if (online(a, t)) a.queue.push(buildReport(a, t))
      const step = t < liveFromMs ? backfillStepMs : intervalMs
      let next = t + step
      if (t < liveFromMs && next >= liveFromMs) {
        // Leave the backfill grid for the agent's live grid.
        const phase = Math.floor(a.index * intervalMs / Math.max(1, rts.length)) + (opts.phaseOffsetMs ?? 0)
        next = liveFromMs + ((((phase - liveFromMs) % intervalMs) + intervalMs) % intervalMs)
      }
      a.nextMs = next
    }
  }

  async function flush (a: AgentRt): Promise<void> {
    a.inflight = true
    inflight++
    const batch = a.queue.slice(0, maxBatch)
    const sentAt = performance.now()
    try {
      stats.framesSent++
      const ack = await a.link.send(batch)
      const latency = performance.now() - sentAt
      stats.latencySeen++
      if (stats.ackLatencyMs.length < MAX_LATENCY_SAMPLES) stats.ackLatencyMs.push(latency)
      else {
        const j = Math.floor(Math.random() * stats.latencySeen)
        if (j < MAX_LATENCY_SAMPLES) stats.ackLatencyMs[j] = latency
      }
      stats.reportsStored += ack.stored.length
      stats.reportsDuplicate += ack.duplicates.length
      const done = new Set([...ack.stored, ...ack.duplicates])
      a.queue = a.queue.filter(r => !done.has(r.seq))
      a.attempt = 0
      opts.onAck?.(a.index, batch, latency)
    } catch (err) {
      const e = err instanceof LinkError ? err : new LinkError('network', (err as Error).message)
      countError(e.kind)
      a.attempt++
      if (e.kind === 'unauthorized' && !a.reenrolled) {
        a.reenrolled = true
        try {
          a.creds = { ...await enrollAgent(httpAgent, baseUrl, opts.enrollToken, a.m.hostname, a.m.machineKey), seqEpochS: a.creds.seqEpochS }
          a.link.close()
          a.link = new AgentLink({ baseUrl, credentials: a.creds, transport, httpAgent, gate: connectGate })
          for (const r of a.queue) r.agentId = a.creds.agentId
        } catch { countError('reenroll') }
      }
      if (e.kind === 'rejected') {
        // A batch the collector refuses will never pass: drop it rather than loop on it.
        a.queue = a.queue.slice(batch.length)
      }
      const backoff = e.retryAfterMs ?? Math.min(30_000, 500 * 2 ** Math.min(6, a.attempt))
      a.retryAtReal = Date.now() + backoff * (0.5 + Math.random() * 0.5)
    } finally {
      a.inflight = false
      inflight--
    }
  }

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let resolveDone!: () => void
  const done = new Promise<void>(resolve => { resolveDone = resolve })

  function tick (): void {
    timer = undefined
    if (stopped) return
    const realNow = Date.now()
    const generating = realNow < endReal
    const simNow = now()
    for (const a of rts) {
      if (a.inflight || realNow < a.retryAtReal) continue
      if (generating) fill(a, simNow)
      if (a.queue.length > 0) { void flush(a); continue }
      if (disconnectWhenOff && transport === 'ws' && a.link.connected && !online(a, simNow) && a.nextMs > simNow) a.link.drop()
    }
    if (!generating && inflight === 0 && rts.every(a => a.queue.length === 0 || realNow < a.retryAtReal)) {
      resolveDone()
      return
    }
    timer = setTimeout(tick, opts.tickMs ?? 100)
  }
  tick()

  function isCaughtUp (): boolean {
    const simNow = now()
    return inflight === 0 && rts.every(a => a.queue.length === 0 && a.nextMs > simNow - intervalMs)
  }

  return {
    agents: rts.map(a => ({ index: a.index, machineId: a.creds.agentId, hostname: a.m.hostname, profile: a.m })),
    faults: placed.faults,
    truth,
    now,
    simStartMs,
    stats: () => ({
      agents: rts.length,
      connected: rts.filter(a => a.link.connected).length,
      framesSent: stats.framesSent,
      reportsGenerated: stats.reportsGenerated,
      reportsStored: stats.reportsStored,
      reportsDuplicate: stats.reportsDuplicate,
      reportsQueued: rts.reduce((n, a) => n + a.queue.length, 0),
      errors: { ...stats.errors },
      ackLatencyMs: stats.ackLatencyMs,
      caughtUp: isCaughtUp()
    }),
    caughtUp: async (timeoutMs = 600_000) => {
      const until = Date.now() + timeoutMs
      while (!isCaughtUp()) {
        if (Date.now() > until) throw new Error(`simulation not caught up after ${timeoutMs} ms (${rts.reduce((n, a) => n + a.queue.length, 0)} reports queued)`)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    },
    done,
    stop: async () => {
      if (stopped) return
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      const until = Date.now() + 5000
      while (inflight > 0 && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20))
      for (const a of rts) a.link.close()
      httpAgent.destroy()
      resolveDone()
    }
  }
}
