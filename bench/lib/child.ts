/**
 * Spawns a TypeScript entry point as a child process that prints one JSON line
 * when ready (the collector, or the bare-Fastify baseline), with a raised open-file
 * limit, and stops it with SIGTERM (then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')

export interface ChildHandle<T> {
  proc: ChildProcess
  pid: number
  ready: T
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone */
  stop: (graceMs?: number) => Promise<void>
  /** SIGKILL at once (an outage) */
  kill: () => Promise<void>
  stderr: () => string
}

export async function spawnReady<T> (entry: string, env: NodeJS.ProcessEnv, opts: { timeoutMs?: number, nodeArgs?: string[] } = {}): Promise<ChildHandle<T>> {
  const node = [process.execPath, ...(opts.nodeArgs ?? []), '--import', 'tsx', path.resolve(ROOT, entry)].map(a => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  // `exec` keeps the pid: the bash pid becomes node's, so /proc sampling measures node.
  const proc = spawn('bash', ['-c', `ulimit -n $(ulimit -Hn) 2>/dev/null; exec ${node}`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  proc.stderr!.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-20_000) })
  const exited = new Promise<void>(resolve => { proc.once('exit', () => { resolve() }) })
  const ready = await new Promise<T>((resolve, reject) => {
    let out = ''
    let seen = ''
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${entry} not ready after ${opts.timeoutMs ?? 60_000} ms: ${err}${seen}`)) }, opts.timeoutMs ?? 60_000)
    // The ready line is the first JSON object that is not a log line (pino's have a
    // level); anything else before it (a warning logged at start, V8 tracing) is skipped.
    const onData = (c: Buffer): void => {
      out += c.toString()
      for (let nl = out.indexOf('\n'); nl !== -1; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        let v: unknown
        try { v = JSON.parse(line) } catch { v = undefined }
        if (v !== null && typeof v === 'object' && !('level' in v)) {
          clearTimeout(timer)
          proc.stdout!.off('data', onData)
          resolve(v as T)
          return
        }
        seen = (seen + line + '\n').slice(-2000)
      }
    }
    proc.stdout!.on('data', onData)
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${entry} exited ${code}: ${err}`)) })
  })
  proc.stdout!.resume()
  return {
    proc,
    pid: proc.pid!,
    ready,
    stderr: () => err,
    stop: async (graceMs = 10_000) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => { proc.kill('SIGKILL') }, graceMs)
      await exited
      clearTimeout(t)
    },
    kill: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGKILL')
      await exited
    }
  }
}

export interface CollectorReady { url: string, enrollToken: string, adminToken: string, pid: number }

/** The real collector in a child process, with its own data folder (removed by `cleanup`). */
export async function spawnCollector (opts: { dataDir?: string, port?: number, env?: NodeJS.ProcessEnv, nodeArgs?: string[] } = {}): Promise<ChildHandle<CollectorReady> & { dataDir: string, cleanup: () => void }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-'))
  const h = await spawnReady<CollectorReady>('bench/lib/collector-child.ts', {
    VIGIE_DATA_DIR: dataDir,
    VIGIE_HOST: '127.0.0.1',
    VIGIE_PORT: String(opts.port ?? 0),
    VIGIE_LOG_LEVEL: 'warn',
    VIGIE_METRIC_STORE: 'sqlite',
    // Every simulated agent connects from 127.0.0.1: the per-address limit would
    // throttle the whole fleet as one client. Benchmarks measure capacity, so both
    // limits are off unless the caller sets them; so are the per-address
    // enrollment and connection limits (10,000 agents enroll and connect from it).
    VIGIE_RATE_LIMIT_IP: '0',
    VIGIE_RATE_LIMIT_AGENT: '0',
    VIGIE_ENROLL_RATE_PER_ADDRESS: '0',
    VIGIE_ENROLL_RATE: '0',
    VIGIE_MAX_CONNECTIONS_PER_IP: '0',
    ...opts.env
  }, { nodeArgs: opts.nodeArgs })
  return { ...h, dataDir, cleanup: () => { if (opts.dataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true }) } }
}

export function portOf (url: string): number {
  return Number(new URL(url).port)
}
