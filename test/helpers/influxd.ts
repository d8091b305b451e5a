/**
 * A private InfluxDB 1.x server for one test file: loopback only, free ports,
 * data under a temp folder, stopped and removed in teardown. `stop()`/`start()`
 * let outage tests take it down and bring it back on the same ports and data.
 *
 * A missing server binary fails the test with a clear message; it never skips
 * (CI installs it in .ci/run: `apt-get install -y influxdb`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Where Debian's `influxdb` package installs the server. */
export const INFLUXD_BIN = '/usr/bin/influxd'

const PING_BOUND_MS = 15_000
const STOP_BOUND_MS = 10_000

export interface InfluxdOptions {
  /** Turn on HTTP authentication (`[http] auth-enabled`); create users with {@link Influxd.adminQuery}. */
  auth?: boolean
}

export interface Influxd {
  /** e.g. `http://127.0.0.1:41234` (no credentials) */
  readonly url: string
  readonly httpPort: number
  /** true between a successful start() and stop() */
  readonly running: boolean
  /** Start the server again (same ports, same data); resolves once /ping answers. */
  start (): Promise<void>
  /** SIGTERM, then wait for the process to exit (SIGKILL after a bound). */
  stop (): Promise<void>
  /** Run one InfluxQL statement over HTTP as `auth` (`user:pass`), returning the parsed JSON. */
  adminQuery (q: string, auth?: string): Promise<unknown>
}

interface TeardownHost {
  teardown (fn: () => unknown): void
}

/** Start a private influxd for the calling test; it is stopped and deleted in `t.teardown`. */
export async function startInfluxd (t: TeardownHost, options: InfluxdOptions = {}): Promise<Influxd> {
  if (!existsSync(INFLUXD_BIN)) {
    throw new Error(`InfluxDB server not found at ${INFLUXD_BIN}. The InfluxDB store tests need a real InfluxDB 1.x: ` +
      'install the Debian package with `apt-get install -y influxdb` (.ci/run does this on CI).')
  }
  const dir = await mkdtemp(join(tmpdir(), 'vigie-influxd-'))
  let child: ChildProcess | undefined
  let output = ''
  let httpPort = 0

  const writeConfig = async (): Promise<string> => {
    httpPort = await freePort()
    const rpcPort = await freePort()
    const file = join(dir, 'influxd.conf')
    await writeFile(file, [
      'reporting-disabled = true',
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      `  auth-enabled = ${options.auth === true ? 'true' : 'false'}`,
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  run-interval = "1s"',
      '  log-enabled = false',
      ''
    ].join('\n'))
    return file
  }

  const launch = async (configFile: string): Promise<void> => {
    output = ''
    const proc = spawn(INFLUXD_BIN, ['-config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-4000) }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    let exited = false
    proc.once('exit', () => { exited = true })
    const deadline = Date.now() + PING_BOUND_MS
    while (Date.now() < deadline) {
      if (exited) throw new Error(`influxd exited during start-up (code ${String(proc.exitCode)}):\n${output}`)
      if (await ping(httpPort)) return
      await delay(50)
    }
    await terminate(proc)
    throw new Error(`influxd did not answer /ping on 127.0.0.1:${httpPort} within ${PING_BOUND_MS} ms:\n${output}`)
  }

  // Free ports can be taken between probing and binding: retry with new ones.
  let configFile = await writeConfig()
  for (let attempt = 1; ; attempt++) {
    try {
      await launch(configFile)
      break
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(output)) {
        await rm(dir, { recursive: true, force: true })
        throw err
      }
      configFile = await writeConfig()
    }
  }

  const server: Influxd = {
    get url () { return `http://127.0.0.1:${httpPort}` },
    get httpPort () { return httpPort },
    get running () { return child !== undefined && child.exitCode === null && child.signalCode === null },
    async start () {
      if (server.running) return
      await launch(configFile)
    },
    async stop () {
      if (child === undefined) return
      const proc = child
      child = undefined
      await terminate(proc)
    },
    async adminQuery (q: string, auth?: string) {
      return await postQuery(httpPort, q, auth)
    }
  }
  t.teardown(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })
  return server
}

async function terminate (proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_BOUND_MS)
  await exited
  clearTimeout(timer)
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

async function ping (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 204)
    })
    req.once('timeout', () => req.destroy())
    req.once('error', () => resolve(false))
    req.end()
  })
}

async function postQuery (port: number, q: string, auth?: string): Promise<unknown> {
  const body = new URLSearchParams({ q }).toString()
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': Buffer.byteLength(body)
  }
  if (auth !== undefined) headers.authorization = 'Basic ' + Buffer.from(auth).toString('base64')
  return await new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/query', method: 'POST', headers, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`influxd answered ${String(res.statusCode)} to ${q}: ${text}`))
        else resolve(JSON.parse(text))
      })
    })
    req.once('timeout', () => req.destroy(new Error('influxd query timed out')))
    req.once('error', reject)
    req.end(body)
  })
}

async function delay (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
