/**
 * Enrollment: trade the enrollment token for this agent's own identity (id and
 * secret token), write it to the state file before using it, then forget the
 * enrollment token. Retried while the collector is unreachable or busy; a
 * refusal (bad token) ends the agent. Never run again once enrolled: a refused
 * agent token does not make the agent enroll by itself (agent/ship.ts).
 */
import fs from 'node:fs'
import os from 'node:os'
import type { EnrollHardware } from '../protocol/index.js'
import type { AgentConfig } from './config.js'
import { AgentError } from './errors.js'
import type { AgentLogger } from './log.js'
import { readState, writeState, type AgentState, type StateKeeper } from './state.js'
import type { Spool } from './spool.js'
import { SendError, Transport } from './transport.js'
import { backoffMs, retryAfterMs } from './backoff.js'
import { HARDWARE_FACTS, probeOs } from './probes/registry.js'
import { AGENT_VERSION } from './version.js'

/** This machine's stable key (the OS's machine id), if it has one. */
export function machineKey (file?: string): string | undefined {
  for (const f of file !== undefined ? [file] : ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const v = fs.readFileSync(f, 'utf8').trim()
      if (v !== '') return v.slice(0, 128)
    } catch { /* not on this OS */ }
  }
  return undefined
}

/** What identifies this hardware at enrollment: network adapter addresses, and where the OS tells cheaply (Linux) the firmware's vendor, model and serial. */
export async function hardwareFacts (): Promise<EnrollHardware> {
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
export function enrollmentToken (config: AgentConfig): string | undefined {
  if (config.enrollToken !== undefined) return config.enrollToken
  if (config.enrollTokenFile === undefined) return undefined
  let text: string
  try { text = fs.readFileSync(config.enrollTokenFile, 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AgentError('VIGIE_AGENT_ERR_ENROLL_TOKEN_FILE', `enrollment token file ${config.enrollTokenFile}: ${(err as Error).message}`, { cause: err })
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

/** Forgets the enrollment token and says what was removed, or what must be removed by hand. */
export function cleanEnrollToken (config: AgentConfig, log: AgentLogger): void {
  const { removed, failed } = forgetEnrollToken(config)
  if (removed.length > 0) log.info({ files: removed }, 'enrollment token removed: no longer needed')
  for (const f of failed) log.warn({ file: f.file, err: f.err }, 'could not remove the enrollment token from this file; remove it by hand')
}

export interface EnrollDeps {
  log: AgentLogger
  /** the highest seq already in the spool (0 if empty): the new identity numbers above it */
  spoolMaxSeq: () => number
  /** aborted when the agent stops: a wait between attempts ends at once */
  signal: AbortSignal
  random?: () => number
}

/** One enrollment attempt; the identity is on disk before it is returned. */
export async function enrollOnce (config: AgentConfig, deps: EnrollDeps): Promise<AgentState> {
  const enrollToken = enrollmentToken(config)
  if (enrollToken === undefined) {
    throw new AgentError('VIGIE_AGENT_ERR_NO_ENROLL_TOKEN', `not enrolled and no enrollment token: give one with --enroll-token-file FILE, VIGIE_ENROLL_TOKEN or --enroll-token - (stdin) (state folder ${config.stateDir})`)
  }
  const t = new Transport({ url: config.collectorUrl, mode: 'http', caFile: config.caFile })
  const key = machineKey(config.machineKeyFile)
  const res = await t.enroll({ enrollToken, hostname: config.hostname ?? os.hostname(), agentVersion: AGENT_VERSION, ...(key !== undefined ? { machineKey: key } : {}), hardware: await hardwareFacts() })
  const prev = readState(config.stateDir)
  const s: AgentState = {
    collectorUrl: config.collectorUrl,
    agentId: res.agentId,
    agentToken: res.agentToken,
    // Number on above what the collector already stored under this id (a re-enrollment), and above the spool.
    nextSeq: Math.max(prev?.nextSeq ?? 1, deps.spoolMaxSeq() + 1, (res.lastSeq ?? 0) + 1),
    droppedReports: prev?.droppedReports ?? 0,
    ...(res.status === 'pending' ? { pending: true } : {})
  }
  // Strict: an identity that is not on disk must not be used (the token would be lost at the next start).
  writeState(config.stateDir, s)
  deps.log.info({ agentId: s.agentId, lastSeq: res.lastSeq, nextSeq: s.nextSeq, status: res.status ?? 'active' }, 'enrolled')
  if (res.status === 'pending') deps.log.warn({ agentId: s.agentId }, 'enrolled as a new machine pending approval (this machine key was already known): reports wait in the spool until an admin approves it')
  cleanEnrollToken(config, deps.log)
  return s
}

/**
 * Enrolls, retrying while the collector is unreachable or busy (its
 * Retry-After wins, capped at an hour; else exponential backoff). Throws
 * VIGIE_AGENT_ERR_ENROLL_REFUSED when the collector refuses for good;
 * undefined when the agent was stopped first.
 */
export async function enroll (config: AgentConfig, deps: EnrollDeps): Promise<AgentState | undefined> {
  let attempt = 0
  while (!deps.signal.aborted) {
    try {
      return await enrollOnce(config, deps)
    } catch (err) {
      if (!(err instanceof SendError)) throw err
      if (err.kind !== 'network' && err.kind !== 'busy') throw new AgentError('VIGIE_AGENT_ERR_ENROLL_REFUSED', `enrollment refused: ${err.message}`, { cause: err })
      const wait = err.kind === 'busy' && err.opts.retryAfterMs !== undefined ? retryAfterMs(err.opts.retryAfterMs) : backoffMs(attempt++, deps.random)
      deps.log.warn({ err: err.message, retryInMs: wait }, 'enrollment failed; retrying')
      await sleep(wait, deps.signal)
    }
  }
  return undefined
}

/**
 * The identity the agent runs under: the state file's, or a new enrollment.
 * Then the spool is made to agree with it (reports re-stamped with the id, seq
 * numbered above the spool's highest), and an enrollment token given while
 * already enrolled is forgotten too. Undefined when the agent was stopped first.
 */
export async function identity (config: AgentConfig, deps: Omit<EnrollDeps, 'spoolMaxSeq'> & { spool: Spool, keeper: StateKeeper }): Promise<AgentState | undefined> {
  const { log, spool, keeper } = deps
  // Set as soon as known: reports the spool drops from here on are counted against it.
  keeper.current = readState(config.stateDir)
  if (keeper.current !== undefined && keeper.current.collectorUrl !== config.collectorUrl) {
    log.warn({ was: keeper.current.collectorUrl, now: config.collectorUrl }, 'collector URL changed; keeping the enrollment')
  }
  keeper.current ??= await enroll(config, { ...deps, spoolMaxSeq: () => spool.maxSeq })
  const state = keeper.current
  if (deps.signal.aborted || state === undefined) return undefined
  if (config.enrollToken !== undefined || config.enrollTokenFile !== undefined || config.configFile !== undefined) cleanEnrollToken(config, log)
  spool.restamp(state.agentId)
  state.nextSeq = Math.max(state.nextSeq, spool.maxSeq + 1)
  if (state.refused !== undefined) {
    log.error({ agentId: state.agentId, since: new Date(state.refused.atMs).toISOString(), reason: state.refused.message, spooled: spool.count },
      'this agent was refused by the collector (revoked): sending nothing but one check now and one an hour; spool kept')
  }
  return state
}

/** Waits `ms`, or less if `signal` aborts. */
function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) { resolve(); return }
    const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
