/**
 * The agent's identity and sequence counter, in `<stateDir>/state.json`, readable
 * only by the agent's user (mode 0600). Written atomically (temp file + rename).
 */
import fs from 'node:fs'
import path from 'node:path'
import { AgentError } from './errors.js'
import type { AgentLogger } from './log.js'

export interface AgentState {
  collectorUrl: string
  agentId: string
  agentToken: string
  /** the next report's seq */
  nextSeq: number
  /** last inventory hash the collector acknowledged */
  inventoryHash?: string
  /** reports the spool has dropped since install */
  droppedReports?: number
  /**
   * The collector refused this agent's token (revoked by an admin, or unknown):
   * the agent sends nothing (one check an hour), keeps its spool, and never
   * enrolls again by itself. Cleared when a check is accepted (an admin reinstated it).
   */
  refused?: { atMs: number, code?: string, message: string }
  /** enrolled as a machine pending an admin's approval; reports wait in the spool */
  pending?: boolean
}

export function statePath (stateDir: string): string {
  return path.join(stateDir, 'state.json')
}

export function readState (stateDir: string): AgentState | undefined {
  let text: string
  try { text = fs.readFileSync(statePath(stateDir), 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let s: AgentState
  try { s = JSON.parse(text) as AgentState } catch (err) {
    throw new AgentError('VIGIE_AGENT_ERR_STATE_DAMAGED', `state file ${statePath(stateDir)} is damaged (${(err as Error).message}); move it away and enroll again with a new enrollment token (an admin approves the new machine)`, { cause: err })
  }
  if (s === null || typeof s !== 'object' || typeof s.agentId !== 'string' || typeof s.agentToken !== 'string' || !Number.isInteger(s.nextSeq)) {
    throw new AgentError('VIGIE_AGENT_ERR_STATE_DAMAGED', `state file ${statePath(stateDir)} is damaged; move it away and enroll again with a new enrollment token (an admin approves the new machine)`)
  }
  return s
}

export function writeState (stateDir: string, state: AgentState): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const file = statePath(stateDir)
  const tmp = `${file}.${process.pid}.tmp`
  try {
    const fd = fs.openSync(tmp, 'w', 0o600)
    try {
      fs.writeSync(fd, JSON.stringify(state))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
    fs.chmodSync(file, 0o600)
  } catch (err) {
    // Never leave a temp file behind (a full disk would keep it full).
    try { fs.rmSync(tmp, { force: true }) } catch { /* nothing more to do */ }
    const e = err as NodeJS.ErrnoException
    throw new AgentError('VIGIE_AGENT_ERR_STATE_WRITE', `state file ${file}: ${e.message}`, { cause: err, ...(e.code !== undefined ? { errno: e.code } : {}) })
  }
}

/**
 * The state the running agent works on, saved after each change. A failed save
 * (full disk) is logged once per distinct error and the state stays in memory:
 * the next save tries again, and after a restart seq resumes above the spool's highest.
 */
export class StateKeeper {
  current: AgentState | undefined
  #lastError: string | undefined

  constructor (readonly dir: string, readonly log: AgentLogger) {}

  save (): void {
    if (this.current === undefined) return
    try {
      writeState(this.dir, this.current)
      this.#lastError = undefined
    } catch (err) {
      const msg = (err as Error).message
      if (msg !== this.#lastError) this.log.error({ err: msg }, 'state file not written; kept in memory, retried at the next change')
      this.#lastError = msg
    }
  }

  /** Counts reports lost for good (sent to the collector as `droppedReports`). */
  countDropped (n: number): void {
    if (this.current === undefined) return
    this.current.droppedReports = (this.current.droppedReports ?? 0) + n
    this.save()
  }
}
