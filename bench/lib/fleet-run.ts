/**
 * Shared by ws-scale and live-latency: the real collector in a child process,
 * N simulated agents (always-on, one WebSocket each, reports spread evenly over
 * the interval) in this process, optionally a dashboard client on /api/v1/live,
 * for a bounded time. Collects collector CPU/RSS from /proc, ack latencies and
 * report → live-event latencies.
 */
import WebSocket from 'ws'
import { spawnCollector } from './child.js'
import { ProcSampler, readProc } from './proc-stats.js'
import { startSimulation } from '../sim/simulation.js'
import { sleep } from './stats.js'

export interface FleetRunOptions {
  agents: number
  intervalSec: number
  /** measured steady-state period after every agent is connected, ms */
  measureMs: number
  /** watch the live dashboard stream */
  live?: boolean
  log?: (msg: string) => void
}

export interface FleetRunResult {
  agents: number
  connected: number
  enrollSec: number
  connectSec: number
  baseRssBytes: number
  steadyRssBytes: number
  peakRssBytes: number
  cpuPct: number
  reportsPerSec: number
  ackMs: number[]
  liveMs: number[]
  liveEvents: number
  errors: Record<string, number>
  streamsOnCollector: number
}

export async function runFleet (o: FleetRunOptions): Promise<FleetRunResult> {
  const log = o.log ?? (() => {})
  const c = await spawnCollector()
  try {
    await sleep(1000)
    const base = readProc(c.pid).rssBytes
    const sampler = new ProcSampler(c.pid, 1000)
    let dash: WebSocket | undefined
    const liveMs: number[] = []
    let liveEvents = 0
    let measuring = false
    if (o.live === true) {
      dash = new WebSocket(`${c.ready.url.replace(/^http/, 'ws')}/api/v1/live?token=${c.ready.adminToken}`, { perMessageDeflate: false })
      await new Promise<void>((resolve, reject) => { dash!.once('open', () => { resolve() }); dash!.once('error', reject) })
      dash.on('message', (data) => {
        const at = Date.now()
        const msg = JSON.parse(String(data)) as { type: string, events?: Array<{ type: string, machine?: { lastSeenAt: string } }> }
        if (msg.type !== 'batch' || !measuring) return
        for (const e of msg.events ?? []) {
          if (e.type !== 'machine' || e.machine === undefined) continue
          liveEvents++
          // lastSeenAt is the collector's receive time of the report that produced the event.
          liveMs.push(at - Date.parse(e.machine.lastSeenAt))
        }
      })
    }
    const t0 = Date.now()
    const ackMs: number[] = []
    let stored = 0
    const sim = await startSimulation({
      collectorUrl: c.ready.url,
      enrollToken: c.ready.enrollToken,
      agents: o.agents,
      seed: 10_000,
      scenario: { name: 'scale', fleet: { schedule: 'always-on' }, faults: [] },
      intervalSec: o.intervalSec,
      transport: 'ws',
      enrollConcurrency: 32,
      connectConcurrency: 256,
      onAck: (_i, reports, latency) => { if (measuring) { ackMs.push(latency); stored += reports.length } },
      log
    })
    const enrolledAndConnected = (Date.now() - t0) / 1000
    log(`fleet up after ${enrolledAndConnected.toFixed(1)} s; warming up one interval`)
    await sleep(o.intervalSec * 1000)
    measuring = true
    const from = sampler.mark()
    const startMs = Date.now()
    await sleep(o.measureMs)
    measuring = false
    const elapsed = (Date.now() - startMs) / 1000
    const sum = sampler.summary(from)
    const metricsText = await (await fetch(`${c.ready.url}/metrics`)).text()
    const streams = Number(/vigie_agent_streams (\d+)/.exec(metricsText)?.[1] ?? NaN)
    const st = sim.stats()
    dash?.close()
    await sim.stop()
    sampler.stop()
    return {
      agents: o.agents,
      connected: st.connected,
      enrollSec: enrolledAndConnected,
      connectSec: enrolledAndConnected,
      baseRssBytes: base,
      steadyRssBytes: sum.lastRssBytes,
      peakRssBytes: sum.peakRssBytes,
      cpuPct: sum.cpuPct,
      reportsPerSec: stored / elapsed,
      ackMs,
      liveMs,
      liveEvents,
      errors: st.errors,
      streamsOnCollector: streams
    }
  } finally {
    await c.stop(30_000)
    c.cleanup()
  }
}
