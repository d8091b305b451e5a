/**
 * createAgent(config) → { start, stop }: the wiring. Take the identity from
 * the state file or enroll once (enroll.ts),
 * collect on a schedule (collect.ts, scheduler.ts), map each collection to
 * a report (wire.ts), spool it to disk first (spool.ts), and ship the spool
 * oldest-first (ship.ts), removing reports only when acknowledged. Nothing
 * here may take the host down: every failure is logged and retried later.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Report } from '../protocol/index.js'
import type { AgentConfig } from './config.js'
import type { AgentLogger } from './log.js'
import { AgentError } from './errors.js'
import { StateKeeper } from './state.js'
import { Spool } from './spool.js'
import { Transport } from './transport.js'
import { every, type Scheduled } from './scheduler.js'
import { identity } from './enroll.js'
import { Collector } from './collect.js'
import { Shipper } from './ship.js'
import { toReport } from './wire.js'
import type { Probe, ProbeEnv } from './probes/probe.js'
import { configuredProbes } from './probes/registry.js'
import type { ProbeStat } from './probe-stats.js'
import { AGENT_VERSION } from './version.js'

export interface AgentHandle {
  start (): Promise<void>
  stop (): Promise<void>
  /** runs the probes once and spools a report; returns it */
  collectOnce (): Promise<Report>
  /** ships the spool now; resolves when it is empty or a send failed */
  flush (): Promise<void>
  readonly agentId: string | undefined
  readonly spooled: number
  /** what each probe cost and whether it works here, for `doctor` and logs */
  probeStats (): ProbeStat[]
}

export interface AgentDeps {
  log: AgentLogger
  probes?: Probe[]
  /** where default probes read from (tests) */
  probeEnv?: ProbeEnv
  now?: () => number
  /**
   * What runs `tick` on the interval grid (default `every`). A test that drives
   * collections itself passes one that never fires: with a 3600 s interval the
   * real grid still fires on the hour, in the middle of whatever test runs then.
   */
  schedule?: typeof every
}

export function createAgent (config: AgentConfig, deps: AgentDeps): AgentHandle {
  const { log } = deps
  const now = deps.now ?? Date.now
  const keeper = new StateKeeper(config.stateDir, log)
  const stopping = new AbortController()
  let spool: Spool | undefined
  let shipper: Shipper | undefined
  let job: Scheduled | undefined
  const collector = new Collector(deps.probes ?? configuredProbes(config, deps.probeEnv), { log, now, intervalSec: config.intervalSec, spooled: () => spool?.count ?? 0 })

  async function collectOnce (): Promise<Report> {
    const state = keeper.current
    if (state === undefined || spool === undefined) throw new AgentError('VIGIE_AGENT_ERR_NOT_STARTED', 'agent not started')
    const c = await collector.collect(state.inventoryHash)
    const report = toReport(c, { agentId: state.agentId, seq: state.nextSeq, clockMs: now(), droppedReports: state.droppedReports ?? 0, agentVersion: AGENT_VERSION, hostname: config.hostname, group: config.group })
    // The spool first: on a full disk it frees room by dropping its oldest reports
    // (counted), so the report is kept; then the state (seq), which may then fit.
    state.nextSeq++
    try {
      spool.add(report)
    } catch (err) {
      state.droppedReports = (state.droppedReports ?? 0) + 1
      log.error({ seq: report.seq, err: (err as Error).message }, 'report could not be spooled; dropped and counted')
    }
    keeper.save()
    return report
  }

  async function tick (): Promise<void> {
    // Refused: no collection, nothing sent but the hourly check (armed by the shipper's retry).
    if (keeper.current?.refused !== undefined) { if (shipper?.retryDue() === true) await shipper.flush(); return }
    try {
      await collectOnce()
    } catch (err) {
      log.error({ err }, 'collection failed')
    }
    await shipper?.flush()
  }

  return {
    get agentId () { return keeper.current?.agentId },
    get spooled () { return spool?.count ?? 0 },
    probeStats: () => collector.stats(),
    collectOnce,
    flush: async () => { await shipper?.flush() },
    async start () {
      fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 })
      const onDrop = (count: number, reason: string): void => { log.warn({ count, reason }, 'spool dropped reports'); keeper.countDropped(count) }
      const s = spool = new Spool({ dir: path.join(config.stateDir, 'spool'), maxBytes: config.spoolMaxBytes, maxAgeMs: config.spoolMaxAgeHours * 3_600_000, now, onDrop })
      const state = await identity(config, { log, spool: s, keeper, signal: stopping.signal })
      if (stopping.signal.aborted || state === undefined) return
      const sender = new Transport({ url: config.collectorUrl, token: state.agentToken, mode: config.transport, caFile: config.caFile, log })
      shipper = new Shipper({ spool: s, sender, state: keeper, log, now, intervalSec: config.intervalSec })
      log.info({ agentId: state.agentId, collector: config.collectorUrl, intervalSec: config.intervalSec, spooled: s.count }, 'agent started')
      await tick()
      if (!stopping.signal.aborted) job = (deps.schedule ?? every)(config.intervalSec, 'vigie-collect', tick)
    },
    async stop () {
      stopping.abort()
      const shipped = shipper?.stop()
      await job?.stop()
      await shipped
    }
  }
}
