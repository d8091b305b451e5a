/**
 * One collection: run the probes that are due (each with its timeout, never
 * throwing), note what each cost, merge their host facts, keep the latest
 * inventory, and add the agent's own cost. The result is the agent's plain
 * sample of the machine; agent/wire.ts turns it into a report.
 */
import os from 'node:os'
import type { AgentLogger } from './log.js'
import type { App, HostSample, Measurement, NotMeasured, SoftwareSample } from './sample.js'
import { runProbe, type Probe } from './probes/probe.js'
import { inventoryHash } from './probes/inventory.js'
import { ProbeStats, type ProbeStat } from './probe-stats.js'

/** Host facts with the defaults every report carries. */
export type HostFacts = HostSample & Required<Pick<HostSample, 'hostname' | 'os' | 'osVersion' | 'kernel' | 'arch'>>

/** The inventory as reports carry it: the hash and pending updates always, the app list only when it changed. */
export interface SoftwareState { hash: string, pendingUpdates?: number, apps?: App[] }

/** What one collection saw. */
export interface Collection {
  /** when the collection started, epoch ms */
  atMs: number
  metrics: Measurement[]
  unavailable: NotMeasured[]
  host: HostFacts
  inventory?: SoftwareState
}

export interface CollectorOptions {
  log: AgentLogger
  now: () => number
  /** the collection cadence, seconds (a probe due every N seconds is run at the tick nearest to it) */
  intervalSec: number
  /** reports waiting in the spool, reported as `agent.spooled_reports` */
  spooled: () => number
}

export class Collector {
  readonly #probes: readonly Probe[]
  readonly #opts: CollectorOptions
  readonly #stats = new ProbeStats()
  readonly #lastRun = new Map<string, number>()
  readonly #cached = new Map<string, { metrics: Measurement[], unavailable: NotMeasured[] }>()
  #host: HostSample = {}
  /** the latest inventory run's hash and pending updates: they go in every report */
  #inventory: { hash: string, pendingUpdates?: number } | undefined
  #lastCpu = process.cpuUsage()
  #lastCpuAt: number

  constructor (probes: readonly Probe[], opts: CollectorOptions) {
    this.#probes = probes
    this.#opts = opts
    this.#lastCpuAt = opts.now()
  }

  /** What each probe cost and whether it works here, for `doctor` and logs. */
  stats (): ProbeStat[] {
    return this.#stats.list(this.#probes)
  }

  /**
   * Runs the due probes. `ackedInventoryHash` is the last inventory the
   * collector acknowledged: the app list is included only when it differs
   * (the collector keeps the change history).
   */
  async collect (ackedInventoryHash: string | undefined): Promise<Collection> {
    const { log } = this.#opts
    const t = this.#opts.now()
    // Ticks jitter by a few ms; a probe due every 60 s must not slip to every 90 s at a 30 s interval.
    const slack = Math.min(5000, this.#opts.intervalSec * 500)
    const due = this.#probes.filter(p => (p.everySec ?? 0) === 0 || t - (this.#lastRun.get(p.name) ?? -Infinity) >= (p.everySec ?? 0) * 1000 - slack)
    const results = await Promise.all(due.map(async p => ({ p, r: await runProbe(p) })))
    let apps: App[] | undefined
    for (const { p, r } of results) {
      this.#lastRun.set(p.name, t)
      this.#stats.record(p, r)
      if (r.host !== undefined) this.#host = { ...this.#host, ...r.host }
      this.#cached.set(p.name, { metrics: r.metrics, unavailable: r.unavailable ?? [] })
      if (r.ms > p.timeoutMs / 2) log.warn({ probe: p.name, ms: Math.round(r.ms) }, 'slow probe')
      if (r.failed) for (const u of r.unavailable ?? []) log.warn({ probe: u.probe, reason: u.reason }, 'probe failed')
      if (r.inventory !== undefined) apps = this.#noteInventory(r.inventory, ackedInventoryHash)
    }
    const metrics: Measurement[] = this.#ownCost(t)
    const unavailable: NotMeasured[] = []
    for (const p of this.#probes) {
      const c = this.#cached.get(p.name)
      // Slow-cadence probes (host facts, inventory) contribute their facts, not stale values.
      if (c === undefined || ((p.everySec ?? 0) > 0 && this.#lastRun.get(p.name) !== t)) continue
      metrics.push(...c.metrics)
      unavailable.push(...c.unavailable)
    }
    return {
      atMs: t,
      metrics,
      unavailable,
      host: { hostname: os.hostname(), os: process.platform, osVersion: '', kernel: os.release(), arch: process.arch, ...this.#host },
      ...(this.#inventory !== undefined ? { inventory: { ...this.#inventory, ...(apps !== undefined ? { apps } : {}) } } : {})
    }
  }

  /** Keeps the inventory's hash; returns the app list when the collector lacks it. */
  #noteInventory (inventory: SoftwareSample, acked: string | undefined): App[] | undefined {
    const hash = inventoryHash(inventory.apps)
    this.#inventory = { hash, ...(inventory.pendingUpdates !== undefined ? { pendingUpdates: inventory.pendingUpdates } : {}) }
    return hash !== acked ? inventory.apps : undefined
  }

  /** The agent's own cost and backlog, so a fleet-wide footprint regression shows on the dashboards. */
  #ownCost (t: number): Measurement[] {
    const cpu = process.cpuUsage()
    const elapsedMs = t - this.#lastCpuAt
    const usedMs = (cpu.user - this.#lastCpu.user + cpu.system - this.#lastCpu.system) / 1000
    this.#lastCpu = cpu
    this.#lastCpuAt = t
    const own: Measurement[] = [
      { name: 'agent.rss_bytes', unit: 'bytes', value: process.memoryUsage.rss() },
      { name: 'agent.spooled_reports', unit: 'count', value: this.#opts.spooled() }
    ]
    if (elapsedMs > 0) own.push({ name: 'agent.cpu_pct', unit: 'percent', value: Math.round(10000 * usedMs / elapsedMs) / 100 })
    return own
  }
}
