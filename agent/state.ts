/**
 * The agent's identity and sequence counter, in `<stateDir>/state.json`, readable
 * only by the agent's user (mode 0600). Written atomically (temp file + rename).
 */
import fs from 'node:fs'
import path from 'node:path'

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
  const s = JSON.parse(text) as AgentState
  if (typeof s.agentId !== 'string' || typeof s.agentToken !== 'string' || !Number.isInteger(s.nextSeq)) {
    throw new Error(`state file ${statePath(stateDir)} is damaged; remove it to enroll again`)
  }
  return s
}

export function writeState (stateDir: string, state: AgentState): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const file = statePath(stateDir)
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.writeSync(fd, JSON.stringify(state))
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
  fs.chmodSync(file, 0o600)
}
