/**
 * Real collector and agent processes for integration tests: started from source
 * with tsx on port 0 and temp folders, their output captured, stopped in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { waitFor } from './wait.js'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')

export interface Proc {
  proc: ChildProcess
  output: () => string
  /** SIGTERM, then SIGKILL after a bound; resolves when the process is gone */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Starts `script` from source with tsx, its output captured. */
export function startProcess (script: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>(resolve => { proc.once('exit', (code) => { resolve(code) }) })
  return {
    proc,
    output: () => out,
    async stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
      proc.kill(signal)
      const timer = setTimeout(() => { proc.kill('SIGKILL') }, 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    }
  }
}

export interface CollectorProc extends Proc {
  url: string
  adminToken?: string
}

/** Starts `collector/main.ts` and waits until it listens; `port: 0` picks a free port. */
export async function spawnCollector (opts: { dataDir: string, port?: number, env?: NodeJS.ProcessEnv }): Promise<CollectorProc> {
  const p = startProcess('collector/main.ts', [], {
    VIGIE_DATA_DIR: opts.dataDir,
    VIGIE_PORT: String(opts.port ?? 0),
    VIGIE_LOG_LEVEL: 'info',
    ...opts.env
  })
  const url = await waitFor(() => {
    if (p.proc.exitCode !== null) throw new Error(`collector exited ${p.proc.exitCode}: ${p.output()}`)
    const line = p.output().split('\n').find(l => l.includes('"msg":"collector listening"'))
    return line === undefined ? undefined : /"url":"(https?:\/\/[^"]+)"/.exec(line)?.[1]
  }, { timeoutMs: 30_000, what: 'collector to listen' })
  const adminToken = /(vgt_[A-Za-z0-9_-]{20,})/.exec(p.output())?.[1]
  return { ...p, url, adminToken }
}

/** Starts `agent/main.ts run` against a collector. */
export function spawnAgent (opts: { url: string, stateDir: string, enrollToken?: string, intervalSec?: number, env?: NodeJS.ProcessEnv }): Proc {
  const args = ['run', '--collector', opts.url, '--state-dir', opts.stateDir, '--interval', String(opts.intervalSec ?? 1)]
  return startProcess('agent/main.ts', args, {
    VIGIE_ENROLL_TOKEN: opts.enrollToken ?? '',
    VIGIE_AGENT_LOG_LEVEL: 'info',
    ...opts.env
  })
}

/** GET with a technician token; returns parsed JSON and the status. */
export async function api<T = any> (url: string, token: string, init: RequestInit = {}): Promise<{ status: number, body: T }> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers } })
  const text = await res.text()
  let body: unknown
  try { body = JSON.parse(text) } catch { body = text }
  return { status: res.status, body: body as T }
}
