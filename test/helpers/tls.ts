/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1 /
 * localhost, made with the `openssl` command into a temp folder; and a collector
 * process speaking HTTPS. A missing openssl fails the test with a clear message
 * (.ci/run installs it on CI).
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import path from 'node:path'
import { startProcess, type Proc } from './processes.js'
import { waitFor } from './wait.js'

export interface TestCa {
  dir: string
  /** PEM of the CA certificate (what agents are given as VIGIE_AGENT_CA_FILE) */
  caFile: string
  /** server certificate and key, signed by the CA, for 127.0.0.1 and localhost */
  certFile: string
  keyFile: string
}

function openssl (args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT') throw new Error('the TLS tests need the `openssl` command: apt-get install -y openssl (.ci/run does this)', { cause: err })
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? e.message}`, { cause: err })
  }
}

/** Generates a CA and a server certificate (EC P-256, valid 2 days) into `dir`. */
export function makeTestCa (dir: string): TestCa {
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\nbasicConstraints = CA:FALSE\n')
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Vigie Test CA'], dir)
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir)
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir)
  return { dir, caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key') }
}

export interface TlsCollector extends Proc { url: string }

/** Starts collector/main.ts with TLS on a free port; resolves once it listens (https URL). */
export async function spawnTlsCollector (opts: { dataDir: string, ca: TestCa, env?: NodeJS.ProcessEnv }): Promise<TlsCollector> {
  const p = startProcess('collector/main.ts', [], { VIGIE_DATA_DIR: opts.dataDir, VIGIE_PORT: '0', VIGIE_LOG_LEVEL: 'info', VIGIE_TLS_CERT: opts.ca.certFile, VIGIE_TLS_KEY: opts.ca.keyFile, ...opts.env })
  const url = await waitFor(() => {
    if (p.proc.exitCode !== null) throw new Error(`collector exited ${p.proc.exitCode}: ${p.output()}`)
    return /"url":"(https:\/\/[^"]+)"/.exec(p.output())?.[1]
  }, { timeoutMs: 30_000, what: 'the TLS collector to listen' })
  return { ...p, url }
}

/** A JSON request over https trusting only the given CA. */
export async function httpsJson<T = any> (url: string, opts: { ca: Buffer | string, method?: string, token?: string, body?: unknown, headers?: Record<string, string> }): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: T }> {
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body))
  return await new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: opts.method ?? 'GET',
      ca: opts.ca,
      timeout: 10_000,
      headers: {
        ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        ...opts.headers
      }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown = text
        try { body = JSON.parse(text) } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T })
      })
    })
    req.on('timeout', () => { req.destroy(new Error('timed out')) })
    req.on('error', reject)
    req.end(payload)
  })
}
