/**
 * Real collectors for agent tests: in-process (startCollector on a port) or as
 * a child process (to stop and restart it like an outage), plus small API and
 * polling helpers. No sleeps as synchronisation: everything polls with a bound.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { startCollector } from '../../../collector/main.js'
import { waitFor as waitUntil } from '../../helpers/wait.js'

export const ROOT = path.resolve(import.meta.dirname, '..', '..', '..')
export const ENROLL_TOKEN = 'agent-test-enroll-token-0001'

/** A port free right now on loopback. */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => { resolve(port) })
    })
  })
}

/** Polls `fn` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T> (what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  return await waitUntil(fn, { what, timeoutMs, intervalMs: everyMs })
}

export async function inProcessCollector (dataDir: string, port = 0): Promise<{ url: string, adminToken: string | undefined, close: () => Promise<void> }> {
  const c = await startCollector({ config: { dataDir, port, host: '127.0.0.1', enrollToken: ENROLL_TOKEN, logLevel: 'silent' }, env: {}, logger: false })
  return { url: c.url, adminToken: c.adminToken, close: async () => { await c.app.close() } }
}

export interface CollectorProcess { url: string, adminToken?: string, child: ChildProcess, stop: () => Promise<void> }

/** Runs `collector/main.ts` as its own process (what an outage test stops and restarts). */
export async function collectorProcess (dataDir: string, port: number): Promise<CollectorProcess> {
  // An empty data dir means a first start: the admin token is printed on stderr
  // after the listener is up, so /healthz can answer before it has been read.
  const firstStart = !existsSync(dataDir) || readdirSync(dataDir).length === 0
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, VIGIE_DATA_DIR: dataDir, VIGIE_PORT: String(port), VIGIE_HOST: '127.0.0.1', VIGIE_ENROLL_TOKEN: ENROLL_TOKEN, VIGIE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
  const url = `http://127.0.0.1:${port}`
  await waitFor(`collector on ${url}`, async () => {
    if (child.exitCode !== null) throw new Error(`collector exited ${child.exitCode}: ${stderr}`)
    try { return (await fetch(`${url}/healthz`)).ok } catch { return false }
  }, 30_000)
  const tokenOf = (): string | undefined => /admin API token[^\n]*\n\s*(\S+)/.exec(stderr)?.[1]
  const adminToken = firstStart ? await waitFor('admin token printed on first start', tokenOf, 10_000, 20) : tokenOf()
  return {
    url,
    adminToken,
    child,
    stop: () => new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) { resolve(); return }
      child.once('exit', () => { resolve() })
      child.kill('SIGTERM')
    })
  }
}

export async function api<T = unknown> (url: string, token: string, p: string): Promise<T> {
  const res = await fetch(url + p, { headers: { authorization: `Bearer ${token}` } })
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}

/** A pino-compatible logger that keeps lines for assertions (and prints nothing). */
export function memoryLogger (): { lines: Array<Record<string, unknown>>, log: never } {
  const lines: Array<Record<string, unknown>> = []
  const mk = (level: string) => (obj: unknown, msg?: string) => { lines.push({ level, ...(typeof obj === 'object' ? obj as object : { msg: obj }), ...(msg !== undefined ? { msg } : {}) }) }
  const log = { fatal: mk('fatal'), error: mk('error'), warn: mk('warn'), info: mk('info'), debug: mk('debug'), trace: mk('trace'), child: () => log }
  return { lines, log: log as never }
}

/**
 * A schedule that never fires, for tests that drive collections themselves
 * (collectOnce, flush): the real one fires on the wall-clock grid, on the hour
 * for a 3600 s interval, and its extra report would land mid-test.
 */
export const testDrivesCollections = (): { stop: () => Promise<void> } => ({ stop: async () => {} })
