/**
 * One simulated agent's connection to the collector, over the real paths: HTTP
 * enrollment, then the WebSocket stream (one socket per agent, `ws` package, Bearer
 * token on the upgrade) or HTTP batches. One batch in flight at a time, as the real
 * agent does; the caller keeps unacknowledged reports and resends them.
 */
import http from 'node:http'
import WebSocket from 'ws'
import type { BatchAck, EnrollResponse, Report } from '../../protocol/index.js'
import { SIM_AGENT_VERSION } from './behaviour.js'

export class LinkError extends Error {
  constructor (readonly kind: 'network' | 'unauthorized' | 'busy' | 'rejected', message: string, readonly retryAfterMs?: number) {
    super(message)
    this.name = 'LinkError'
  }
}

/** Limits how many of something run at once (handshakes, enrollments). */
export class Gate {
  #free: number
  readonly #waiting: Array<() => void> = []
  constructor (size: number) { this.#free = size }
  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.#free === 0) await new Promise<void>(resolve => this.#waiting.push(resolve))
    else this.#free--
    try { return await fn() } finally {
      const next = this.#waiting.shift()
      if (next !== undefined) next()
      else this.#free++
    }
  }
}

interface JsonResponse { statusCode: number, headers: http.IncomingHttpHeaders, body: unknown }

export function postJson (agent: http.Agent, baseUrl: string, path: string, body: unknown, token?: string, timeoutMs = 30_000): Promise<JsonResponse> {
  const url = new URL(path, baseUrl)
  const payload = Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': payload.length }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    const req = http.request(url, { method: 'POST', headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        let parsed: unknown
        try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { parsed = undefined }
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: parsed })
      })
      res.on('error', (err) => { reject(new LinkError('network', err.message)) })
    })
    req.on('timeout', () => { req.destroy(new Error('request timed out')) })
    req.on('error', (err) => { reject(new LinkError('network', err.message)) })
    req.end(payload)
  })
}

function errorOf (res: JsonResponse): LinkError {
  const b = (res.body ?? {}) as { code?: string, message?: string }
  const msg = `${res.statusCode} ${b.code ?? ''} ${b.message ?? ''}`.trim()
  const ra = Number(res.headers['retry-after'])
  if (res.statusCode === 401 || res.statusCode === 403) return new LinkError('unauthorized', msg)
  if (res.statusCode === 429 || res.statusCode === 503) return new LinkError('busy', msg, Number.isFinite(ra) ? ra * 1000 : undefined)
  if (res.statusCode >= 400 && res.statusCode < 500) return new LinkError('rejected', msg)
  return new LinkError('network', msg)
}

export interface Credentials {
  agentId: string
  agentToken: string
  /** the simulator's seq epoch for this agent, seconds (bench/sim/simulation.ts) */
  seqEpochS?: number
}

/** POST /api/v1/enroll with the machine's hostname and stable key. */
export async function enrollAgent (agent: http.Agent, baseUrl: string, enrollToken: string, hostname: string, machineKey: string): Promise<Credentials> {
  const res = await postJson(agent, baseUrl, '/api/v1/enroll', { enrollToken, hostname, agentVersion: SIM_AGENT_VERSION, machineKey })
  if (res.statusCode !== 200) throw errorOf(res)
  const b = res.body as EnrollResponse
  return { agentId: b.agentId, agentToken: b.agentToken }
}

export interface LinkOptions {
  baseUrl: string
  credentials: Credentials
  transport: 'ws' | 'http'
  httpAgent: http.Agent
  /** handshake gate shared by the fleet */
  gate: Gate
  timeoutMs?: number
}

/** The connection of one agent. */
export class AgentLink {
  readonly #o: LinkOptions
  #ws: WebSocket | undefined
  #opening: Promise<WebSocket> | undefined
  #pending: { resolve: (a: BatchAck) => void, reject: (e: Error) => void, timer: NodeJS.Timeout } | undefined
  #closed = false

  constructor (opts: LinkOptions) {
    this.#o = opts
  }

  get connected (): boolean { return this.#ws?.readyState === WebSocket.OPEN }

  /** Opens the stream (no-op over HTTP or when open). */
  async open (): Promise<void> {
    if (this.#o.transport === 'ws') await this.#openWs()
  }

  async send (reports: Report[]): Promise<BatchAck> {
    const now = new Date().toISOString()
    for (const r of reports) r.agentClock = now
    if (this.#o.transport === 'http') {
      const res = await postJson(this.#o.httpAgent, this.#o.baseUrl, '/api/v1/reports', { reports }, this.#o.credentials.agentToken, this.#o.timeoutMs)
      if (res.statusCode === 200) return res.body as BatchAck
      throw errorOf(res)
    }
    const ws = await this.#openWs()
    return await new Promise<BatchAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined
        this.drop()
        reject(new LinkError('network', 'no acknowledgement within the timeout'))
      }, this.#o.timeoutMs ?? 30_000)
      this.#pending = { resolve, reject, timer }
      ws.send(JSON.stringify({ type: 'reports', reports }), (err) => {
        if (err != null && this.#pending !== undefined) {
          clearTimeout(timer)
          this.#pending = undefined
          reject(new LinkError('network', err.message))
        }
      })
    })
  }

  #openWs (): Promise<WebSocket> {
    if (this.#closed) return Promise.reject(new LinkError('network', 'link closed'))
    if (this.#ws?.readyState === WebSocket.OPEN) return Promise.resolve(this.#ws)
    if (this.#opening !== undefined) return this.#opening
    const url = this.#o.baseUrl.replace(/^http/, 'ws') + '/api/v1/agent/stream'
    this.#opening = this.#o.gate.run(() => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${this.#o.credentials.agentToken}` },
        handshakeTimeout: this.#o.timeoutMs ?? 30_000,
        perMessageDeflate: false
      })
      let settled = false
      ws.once('open', () => { settled = true; this.#ws = ws; resolve(ws) })
      ws.once('unexpected-response', (_req, res) => {
        settled = true
        ws.terminate()
        reject(res.statusCode === 401 ? new LinkError('unauthorized', 'stream refused: 401') : new LinkError('network', `stream refused: ${res.statusCode ?? 0}`))
      })
      ws.on('error', (err) => { if (!settled) { settled = true; reject(new LinkError('network', err.message)) } })
      ws.on('message', (data) => { this.#onMessage(String(data)) })
      ws.on('close', (code, reason) => {
        if (this.#ws === ws) this.#ws = undefined
        if (!settled) { settled = true; reject(new LinkError('network', `closed ${code}`)) }
        const p = this.#pending
        if (p !== undefined) {
          this.#pending = undefined
          clearTimeout(p.timer)
          p.reject(new LinkError(code === 4010 || code === 4001 ? 'unauthorized' : 'network', `stream closed ${code} ${reason.toString()}`))
        }
      })
    })).finally(() => { this.#opening = undefined })
    return this.#opening
  }

  #onMessage (text: string): void {
    let msg: { type?: string, stored?: number[], duplicates?: number[], code?: string, message?: string, serverTime?: string }
    try { msg = JSON.parse(text) as typeof msg } catch { return }
    const p = this.#pending
    if (p === undefined) return
    this.#pending = undefined
    clearTimeout(p.timer)
    if (msg.type === 'ack') p.resolve({ stored: msg.stored ?? [], duplicates: msg.duplicates ?? [], serverTime: msg.serverTime ?? '' })
    else p.reject(new LinkError(msg.code === 'VIGIE_ERR_STORE_UNAVAILABLE' ? 'busy' : 'rejected', `${msg.code ?? ''} ${msg.message ?? ''}`))
  }

  /** Closes the socket (the agent went to sleep or crashed); the next send reopens it. */
  drop (): void {
    const ws = this.#ws
    this.#ws = undefined
    ws?.terminate()
  }

  close (): void {
    this.#closed = true
    const ws = this.#ws
    this.#ws = undefined
    if (ws !== undefined) ws.close(1000, 'simulation stopping')
  }
}
