/**
 * createAgent(config) → { start, stop }: enroll once, collect on a schedule,
 * spool each report to disk, and ship the spool oldest-first to the collector,
 * removing reports only when acknowledged. Nothing here may take the host down:
 * every failure is logged and retried later.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { EnrollHardware, HostFacts, Inventory, MetricValue, Report, Unavailable } from '../protocol/index.js'
import { LIMITS, PROTOCOL_VERSION } from './wire.js'
import type { AgentConfig } from './config.js'
import type { AgentLogger } from './log.js'
import { readState, writeState, type AgentState } from './state.js'
import { Spool } from './spool.js'
import { SendError, Transport } from './transport.js'
import { every, type Scheduled } from './scheduler.js'
import { runProbe, type Probe, type ProbeEnv } from './probes/probe.js'
import { configuredProbes, HARDWARE_FACTS, probeOs } from './probes/registry.js'
import { inventoryHash } from './probes/inventory.js'
import { ProbeStats, type ProbeStat } from './probe-stats.js'
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
}

const MAX_BATCH = 100
const MAX_BATCH_BYTES = 900 * 1024

function machineKey (file?: string): string | undefined {
  for (const f of file !== undefined ? [file] : ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const v = fs.readFileSync(f, 'utf8').trim()
      if (v !== '') return v.slice(0, 128)
    } catch { /* not on this OS */ }
  }
  return undefined
}

/** A machine whose token the collector refused checks once this often whether an admin reinstated it. */
export const REFUSED_RECHECK_MS = 3_600_000

/** What identifies this hardware at enrollment: network adapter addresses, and on Linux the firmware's vendor, model and serial. */
async function hardwareFacts (): Promise<EnrollHardware> {
  const macs = new Set<string>()
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (!i.internal && i.mac !== '00:00:00:00:00:00') macs.add(i.mac)
  }
  const out: EnrollHardware = { macs: [...macs].sort().slice(0, 32) }
  const facts = HARDWARE_FACTS[probeOs()]
  if (facts !== undefined) {
    try {
      Object.assign(out, await facts())
    } catch { /* facts are a hint, never a reason not to enroll */ }
  }
  return out
}

/** The token from the flag/environment, or else from its file; undefined when neither. */
function enrollmentToken (config: AgentConfig): string | undefined {
  if (config.enrollToken !== undefined) return config.enrollToken
  if (config.enrollTokenFile === undefined) return undefined
  let text: string
  try { text = fs.readFileSync(config.enrollTokenFile, 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(`enrollment token file ${config.enrollTokenFile}: ${(err as Error).message}`, { cause: err })
  }
  const t = text.trim()
  return t === '' ? undefined : t
}

/**
 * After the first successful enrollment the enrollment token is forgotten: its
 * file is deleted and an `enrollToken` key is removed from the config file.
 * Returns what could not be cleaned (a read-only config), for a warning.
 */
export function forgetEnrollToken (config: AgentConfig): { removed: string[], failed: Array<{ file: string, err: string }> } {
  const removed: string[] = []
  const failed: Array<{ file: string, err: string }> = []
  config.enrollToken = undefined
  if (config.enrollTokenFile !== undefined && fs.existsSync(config.enrollTokenFile)) {
    try { fs.rmSync(config.enrollTokenFile, { force: true }); removed.push(config.enrollTokenFile) } catch (err) { failed.push({ file: config.enrollTokenFile, err: (err as Error).message }) }
  }
  if (config.configFile !== undefined) {
    const file = config.configFile
    try {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>
      if ('enrollToken' in json) {
        delete json.enrollToken
        const tmp = `${file}.${process.pid}.tmp`
        const mode = fs.statSync(file).mode & 0o777
        try {
          fs.writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n', { mode })
          fs.renameSync(tmp, file)
        } catch (err) { fs.rmSync(tmp, { force: true }); throw err }
        removed.push(file)
      }
    } catch (err) { failed.push({ file, err: (err as Error).message }) }
  }
  return { removed, failed }
}

/** Exponential backoff with full jitter, 1 s to 5 min. */
export function backoffMs (attempt: number, random = Math.random): number {
  const cap = Math.min(300_000, 1000 * 2 ** Math.min(attempt, 20))
  return Math.round(cap / 2 + random() * cap / 2)
}

export function createAgent (config: AgentConfig, deps: AgentDeps): AgentHandle {
  const log = deps.log
  const now = deps.now ?? Date.now
  const probes = deps.probes ?? configuredProbes(config, deps.probeEnv)
  const stats = new ProbeStats()
  const lastRun = new Map<string, number>()
  /** the latest inventory: hash and pending updates go in every report; apps only when the collector lacks them */
  let inventory: Inventory | undefined
  let lastCpu = process.cpuUsage()
  let lastCpuAt = now()
  const cached = new Map<string, { metrics: MetricValue[], unavailable: Unavailable[] }>()
  let host: Partial<HostFacts> = {}
  let state: AgentState | undefined
  let spool: Spool | undefined
  let transport: Transport | undefined
  let job: Scheduled | undefined
  let stopped = false
  let flushing: Promise<void> | undefined
  let attempt = 0
  let retryAt = 0
  let batchLimit = MAX_BATCH
  let wake: (() => void) | undefined
  let retryTimer: NodeJS.Timeout | undefined

  let stateError: string | undefined
  /**
   * Persists the state; a failure (full disk) is logged, naming the file, and the
   * state stays in memory: the next save tries again, and on a restart seq resumes
   * above the spool's highest.
   */
  function saveState (): void {
    if (state === undefined) return
    try {
      writeState(config.stateDir, state)
      stateError = undefined
    } catch (err) {
      const msg = (err as Error).message
      if (msg !== stateError) log.error({ err: msg }, 'state file not written; kept in memory, retried at the next change')
      stateError = msg
    }
  }

  const hostname = (): string => config.hostname ?? os.hostname()

  async function enroll (): Promise<AgentState> {
    const enrollToken = enrollmentToken(config)
    if (enrollToken === undefined) {
      throw new Error(`not enrolled and no enrollment token: give one with --enroll-token-file FILE, VIGIE_ENROLL_TOKEN or --enroll-token - (stdin) (state folder ${config.stateDir})`)
    }
    const t = new Transport({ url: config.collectorUrl, mode: 'http', caFile: config.caFile })
    const key = machineKey(config.machineKeyFile)
    const res = await t.enroll({ enrollToken, hostname: hostname(), agentVersion: AGENT_VERSION, ...(key !== undefined ? { machineKey: key } : {}), hardware: await hardwareFacts() })
    const prev = readState(config.stateDir)
    const s: AgentState = {
      collectorUrl: config.collectorUrl,
      agentId: res.agentId,
      agentToken: res.agentToken,
      // Number on above what the collector already stored under this id (a re-enrollment), and above the spool.
      nextSeq: Math.max(prev?.nextSeq ?? 1, (spool?.maxSeq ?? 0) + 1, (res.lastSeq ?? 0) + 1),
      droppedReports: prev?.droppedReports ?? 0,
      ...(res.status === 'pending' ? { pending: true } : {})
    }
    // Strict: an identity that is not on disk must not be used (the token would be lost at the next start).
    writeState(config.stateDir, s)
    log.info({ agentId: s.agentId, lastSeq: res.lastSeq, nextSeq: s.nextSeq, status: res.status ?? 'active' }, 'enrolled')
    if (res.status === 'pending') log.warn({ agentId: s.agentId }, 'enrolled as a new machine pending approval (this machine key was already known): reports wait in the spool until an admin approves it')
    cleanEnrollToken()
    return s
  }

  function cleanEnrollToken (): void {
    const { removed, failed } = forgetEnrollToken(config)
    if (removed.length > 0) log.info({ files: removed }, 'enrollment token removed: no longer needed')
    for (const f of failed) log.warn({ file: f.file, err: f.err }, 'could not remove the enrollment token from this file; remove it by hand')
  }

  function sleep (ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(() => { wake = undefined; resolve() }, ms)
      wake = () => { clearTimeout(t); wake = undefined; resolve() }
    })
  }

  let selfMetrics: MetricValue[] = []
  /** The agent's own cost and backlog, so a fleet-wide footprint regression shows on the dashboards. */
  function metricsOfAgent (t: number): void {
    const cpu = process.cpuUsage()
    const elapsedMs = t - lastCpuAt
    const usedMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000
    lastCpu = cpu
    lastCpuAt = t
    selfMetrics = [
      { name: 'agent.rss_bytes', unit: 'bytes', value: process.memoryUsage.rss() },
      { name: 'agent.spooled_reports', unit: 'count', value: spool?.count ?? 0 }
    ]
    if (elapsedMs > 0) selfMetrics.push({ name: 'agent.cpu_pct', unit: 'percent', value: Math.round(10000 * usedMs / elapsedMs) / 100 })
  }

  async function collectOnce (): Promise<Report> {
    if (state === undefined || spool === undefined) throw new Error('agent not started')
    const t = now()
    // Ticks jitter by a few ms; a probe due every 60 s must not slip to every 90 s at a 30 s interval.
    const slack = Math.min(5000, config.intervalSec * 500)
    const due = probes.filter(p => (p.everySec ?? 0) === 0 || t - (lastRun.get(p.name) ?? -Infinity) >= (p.everySec ?? 0) * 1000 - slack)
    const results = await Promise.all(due.map(async p => ({ p, r: await runProbe(p) })))
    let apps: Inventory['apps']
    for (const { p, r } of results) {
      lastRun.set(p.name, t)
      stats.record(p, r)
      if (r.host !== undefined) host = { ...host, ...r.host }
      cached.set(p.name, { metrics: r.metrics, unavailable: r.unavailable ?? [] })
      if (r.ms > p.timeoutMs / 2) log.warn({ probe: p.name, ms: Math.round(r.ms) }, 'slow probe')
      if (r.failed) for (const u of r.unavailable ?? []) log.warn({ probe: u.probe, reason: u.reason }, 'probe failed')
      if (r.inventory !== undefined) {
        const hash = inventoryHash(r.inventory.apps)
        inventory = { hash, ...(r.inventory.pendingUpdates !== undefined ? { pendingUpdates: r.inventory.pendingUpdates } : {}) }
        // The collector keeps the change history; it needs the list only when it differs from what it acknowledged.
        if (hash !== state.inventoryHash) apps = r.inventory.apps
      }
    }
    metricsOfAgent(t)
    const metrics: MetricValue[] = [...selfMetrics]
    const unavailable: Unavailable[] = []
    for (const p of probes) {
      const c = cached.get(p.name)
      // Slow-cadence probes (host facts, inventory) contribute their facts, not stale values.
      if (c === undefined || ((p.everySec ?? 0) > 0 && lastRun.get(p.name) !== t)) continue
      metrics.push(...c.metrics)
      unavailable.push(...c.unavailable)
    }
    const report: Report = {
      v: PROTOCOL_VERSION,
      agentId: state.agentId,
      seq: state.nextSeq,
      sampledAt: new Date(t).toISOString(),
      agentClock: new Date(now()).toISOString(),
      host: {
        hostname: os.hostname(),
        os: process.platform,
        osVersion: '',
        kernel: os.release(),
        arch: process.arch,
        ...host,
        ...(config.hostname !== undefined ? { hostname: config.hostname } : {}),
        ...(config.group !== undefined ? { group: config.group } : {}),
        agentVersion: AGENT_VERSION
      },
      metrics: metrics.slice(0, LIMITS.maxMetricsPerReport),
      unavailable: unavailable.slice(0, LIMITS.maxUnavailablePerReport),
      ...(inventory !== undefined ? { inventory: { ...inventory, ...(apps !== undefined ? { apps } : {}) } } : {}),
      droppedReports: state.droppedReports ?? 0
    }
    // The spool first: on a full disk it frees room by dropping its oldest reports
    // (counted), so the report is kept; then the state (seq), which may then fit.
    state.nextSeq++
    try {
      spool.add(report)
    } catch (err) {
      state.droppedReports = (state.droppedReports ?? 0) + 1
      log.error({ seq: report.seq, err: (err as Error).message }, 'report could not be spooled; dropped and counted')
    }
    saveState()
    return report
  }

  /** The collector asked for a new token: get it, persist it, then use it (never the other way round). */
  async function rotateToken (): Promise<void> {
    try {
      const r = await transport!.rotate()
      state!.agentToken = r.agentToken
      saveState()
      transport!.setToken(r.agentToken)
      log.info({ previousTokenValidUntil: r.previousTokenValidUntil }, 'agent token rotated')
    } catch (err) {
      // Retried before the next send: the old token keeps working for the grace period.
      log.warn({ err: (err as Error).message }, 'token rotation failed; will retry')
    }
  }

  async function drain (): Promise<void> {
    while (!stopped && spool !== undefined && spool.count > 0 && state !== undefined && transport !== undefined) {
      if (now() < retryAt) return
      if (transport.rotationDue) await rotateToken()
      const batch = spool.oldest(state.refused !== undefined ? 1 : batchLimit, MAX_BATCH_BYTES)
      if (batch.length === 0) return
      try {
        const ack = await transport.send(batch)
        if (state.refused !== undefined || state.pending === true) {
          log.info({ agentId: state.agentId }, state.refused !== undefined ? 'the collector accepts this agent again (reinstated by an admin)' : 'this machine was approved by an admin; sending its spool')
          state.refused = undefined
          state.pending = undefined
          pendingLogged = false
          saveState()
        }
        const acked = new Set([...ack.stored, ...ack.duplicates])
        spool.ack([...acked])
        for (const r of batch) {
          if (acked.has(r.seq) && r.inventory?.apps !== undefined && r.inventory.hash !== state.inventoryHash) {
            state.inventoryHash = r.inventory.hash
            saveState()
          }
        }
        if (ack.stored.length + ack.duplicates.length < batch.length) {
          log.warn({ sent: batch.length, acked: ack.stored.length + ack.duplicates.length }, 'collector acknowledged part of a batch')
        }
        attempt = 0
        batchLimit = Math.min(MAX_BATCH, batchLimit * 2)
      } catch (err) {
        if (!(err instanceof SendError)) throw err
        await onSendError(err, batch)
        return
      }
    }
  }

  let pendingLogged = false
  /**
   * The collector refused the agent token (revoked by an admin, or unknown): say so,
   * send nothing more, keep the spool, never enroll again by itself. One check an
   * hour (a single report) notices an admin's reinstatement.
   */
  function refuse (err: SendError): void {
    const first = state!.refused === undefined
    state!.refused = { atMs: now(), ...(err.opts.code !== undefined ? { code: err.opts.code } : {}), message: err.message }
    saveState()
    transport?.close()
    retryAt = now() + REFUSED_RECHECK_MS
    log.error({ agentId: state!.agentId, err: err.message, spooled: spool!.count, recheckInMs: REFUSED_RECHECK_MS },
      first
        ? 'the collector refused this agent (revoked by an admin, or its token is unknown): sending nothing, spool kept; an admin must reinstate it (POST /api/v1/admin/agents/:id/unrevoke)'
        : 'still refused by the collector; sending nothing')
  }

  async function onSendError (err: SendError, batch: Report[]): Promise<void> {
    if (err.kind === 'unauthorized') {
      refuse(err)
    } else if (err.kind === 'forbidden' && err.opts.code === 'VIGIE_ERR_AGENT_PENDING') {
      // Not an error in the report: this machine awaits an admin's approval. Keep everything; ask again next collection.
      if (state!.pending !== true) { state!.pending = true; saveState() }
      retryAt = now() + config.intervalSec * 500
      if (!pendingLogged) log.warn({ agentId: state!.agentId, spooled: spool!.count }, 'this machine awaits an admin\'s approval on the collector; reports are kept in the spool until then')
      pendingLogged = true
    } else if (err.kind === 'busy') {
      // Retry-After wins (capped at an hour); without one, back off as for an outage.
      retryAt = now() + (err.opts.retryAfterMs !== undefined ? Math.min(err.opts.retryAfterMs, 3_600_000) : backoffMs(attempt++))
      log.warn({ retryInMs: retryAt - now(), err: err.message }, 'collector busy; honouring Retry-After')
    } else if (err.kind === 'too-large' && batch.length === 1) {
      // One report the collector will never take (e.g. a huge inventory): drop it rather than retry forever.
      log.error({ seq: batch[0].seq, err: err.message }, 'report too large for the collector; dropping it')
      spool!.ack([batch[0].seq])
      state!.droppedReports = (state!.droppedReports ?? 0) + 1
      saveState()
    } else if (err.kind === 'too-large') {
      batchLimit = Math.max(1, Math.floor(batch.length / 2))
    } else if (err.kind === 'rejected' || err.kind === 'forbidden') {
      // The collector will never accept this report; keep the rest moving.
      const idx = Number(/^\/reports\/(\d+)/.exec(err.opts.path ?? '')?.[1] ?? 0)
      const bad = batch[Math.min(idx, batch.length - 1)]
      log.error({ seq: bad.seq, err: err.message }, 'collector rejected a report; dropping it')
      spool!.ack([bad.seq])
      state!.droppedReports = (state!.droppedReports ?? 0) + 1
      saveState()
    } else {
      retryAt = now() + backoffMs(attempt++)
      log.warn({ err: err.message, retryInMs: retryAt - now(), spooled: spool!.count }, 'collector unreachable; will retry')
    }
  }

  function flush (): Promise<void> {
    flushing ??= drain().catch((err: unknown) => {
      log.error({ err }, 'sending failed')
    }).finally(() => { flushing = undefined; armRetry() })
    return flushing
  }

  /**
   * A backlog left after a send: retry as soon as the backoff allows (re-checking at least
   * every 5 s), between collections. Nothing is armed while the spool is empty, so an idle
   * agent wakes only to collect (a 250 ms poll cost it ~20 ms of CPU a minute).
   */
  function armRetry (): void {
    if (stopped || retryTimer !== undefined || spool === undefined || spool.count === 0) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      if (!stopped) void flush()
    }, Math.max(250, Math.min(state?.refused !== undefined ? REFUSED_RECHECK_MS : 5000, retryAt - now())))
  }

  async function tick (): Promise<void> {
    // Refused: no collection, nothing sent but the hourly check (armed by flush's retry).
    if (state?.refused !== undefined) { if (now() >= retryAt) await flush(); return }
    try {
      await collectOnce()
    } catch (err) {
      log.error({ err }, 'collection failed')
    }
    await flush()
  }

  return {
    get agentId () { return state?.agentId },
    get spooled () { return spool?.count ?? 0 },
    probeStats: () => stats.list(probes),
    collectOnce,
    flush,
    async start () {
      fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 })
      spool = new Spool({
        dir: path.join(config.stateDir, 'spool'),
        maxBytes: config.spoolMaxBytes,
        maxAgeMs: config.spoolMaxAgeHours * 3_600_000,
        now,
        onDrop: (count, reason) => {
          log.warn({ count, reason }, 'spool dropped reports')
          if (state !== undefined) { state.droppedReports = (state.droppedReports ?? 0) + count; saveState() }
        }
      })
      state = readState(config.stateDir)
      if (state !== undefined && state.collectorUrl !== config.collectorUrl) {
        log.warn({ was: state.collectorUrl, now: config.collectorUrl }, 'collector URL changed; keeping the enrollment')
      }
      while (state === undefined && !stopped) {
        try {
          state = await enroll()
        } catch (err) {
          const e = err as Error & { kind?: string }
          if (e instanceof SendError && e.kind !== 'network' && e.kind !== 'busy') throw new Error(`enrollment refused: ${e.message}`, { cause: err })
          if (!(e instanceof SendError)) throw e
          // Retry-After (rate limit, machine cap) wins, capped at an hour.
          const wait = e.kind === 'busy' && e.opts.retryAfterMs !== undefined ? Math.min(e.opts.retryAfterMs, 3_600_000) : backoffMs(attempt++)
          log.warn({ err: e.message, retryInMs: wait }, 'enrollment failed; retrying')
          await sleep(wait)
        }
      }
      if (stopped || state === undefined) return
      attempt = 0
      // A token given while already enrolled is not needed: forget it too.
      if (config.enrollToken !== undefined || config.enrollTokenFile !== undefined || config.configFile !== undefined) cleanEnrollToken()
      // Reports spooled under another identity (a state file lost, the spool kept) carry the old id: re-stamp them.
      for (const r of spool.oldest(Number.MAX_SAFE_INTEGER)) {
        if (r.agentId !== state.agentId) { spool.ack([r.seq]); spool.add({ ...r, agentId: state.agentId }) }
      }
      state.nextSeq = Math.max(state.nextSeq, spool.maxSeq + 1)
      if (state.refused !== undefined) {
        log.error({ agentId: state.agentId, since: new Date(state.refused.atMs).toISOString(), reason: state.refused.message, spooled: spool.count },
          'this agent was refused by the collector (revoked): sending nothing but one check now and one an hour; spool kept')
      }
      transport = new Transport({ url: config.collectorUrl, token: state.agentToken, mode: config.transport, caFile: config.caFile, log })
      log.info({ agentId: state.agentId, collector: config.collectorUrl, intervalSec: config.intervalSec, spooled: spool.count }, 'agent started')
      await tick()
      job = every(config.intervalSec, 'vigie-collect', tick)
    },
    async stop () {
      stopped = true
      wake?.()
      if (retryTimer !== undefined) clearTimeout(retryTimer)
      await job?.stop()
      await flushing
      transport?.close()
    }
  }
}
