/**
 * Sends reports to the collector: over the WebSocket stream when it is up, over
 * HTTP batch otherwise. One batch in flight at a time; the caller removes reports
 * from the spool only when `send` resolves with the collector's acknowledgement.
 */
import http from 'node:http'
import https from 'node:https'
import fs from 'node:fs'
import WebSocket from 'ws'
import type { AgentRotateResponse, BatchAck, EnrollRequest, EnrollResponse, Report } from '../protocol/index.js'
import { STREAM_CLOSE, TOKEN_ROTATE_HEADER } from './wire.js'
import { AgentError, type AgentErrorCode } from './errors.js'

export type SendErrorKind = 'network' | 'unauthorized' | 'forbidden' | 'rejected' | 'too-large' | 'busy'

/** The agent's error code for each kind of failed send. */
const SEND_CODES = {
  network: 'VIGIE_AGENT_ERR_UNREACHABLE',
  unauthorized: 'VIGIE_AGENT_ERR_UNAUTHORIZED',
  forbidden: 'VIGIE_AGENT_ERR_FORBIDDEN',
  rejected: 'VIGIE_AGENT_ERR_REJECTED',
  'too-large': 'VIGIE_AGENT_ERR_TOO_LARGE',
  busy: 'VIGIE_AGENT_ERR_BUSY'
} as const satisfies Record<SendErrorKind, AgentErrorCode>

/**
 * Why a send failed, and what the caller should do about it: `code` is the
 * agent's (one per kind), `opts.code` the collector's when it gave one.
 */
export class SendError extends AgentError {
  constructor (
    readonly kind: SendErrorKind,
    message: string,
    readonly opts: { retryAfterMs?: number, path?: string, statusCode?: number, code?: string } = {}
  ) {
    super(SEND_CODES[kind], message)
    this.name = 'SendError'
  }
}

export interface TransportOptions {
  url: string
  token?: string
  mode: 'auto' | 'ws' | 'http'
  caFile?: string
  /** per-request timeout, ms */
  timeoutMs?: number
  log?: { debug: (o: object, m: string) => void, info: (o: object, m: string) => void, warn: (o: object, m: string) => void }
}

/** Stream error codes that refuse a report for good (the HTTP route answers them 400/409). */
const PERMANENT_CODES = new Set(['VIGIE_ERR_VALIDATION', 'VIGIE_ERR_SEQ_CONFLICT', 'VIGIE_ERR_SEQ_JUMP', 'VIGIE_ERR_TIME_INVALID'])

/**
 * A frame closed as bad (4400: invalid against the schema, too deep, not JSON) is
 * refused for good, like the HTTP route's 400: the reason names the code and, for
 * a schema failure, the field (`/reports/N/...`), so the caller drops that one
 * report (or, with no report named, sends one at a time to find it). Treated as a
 * network error, the same frame was resent forever on a stream-only agent, and
 * every later report waited behind it.
 */
function badFrame (reason: string): SendError {
  const m = /^(VIGIE_ERR_[A-Z_]+):?\s*(\/reports\/\d+\S*)?/.exec(reason)
  return new SendError('rejected', `stream closed 4400 ${reason}`, { code: m?.[1] ?? 'VIGIE_ERR_FRAME_INVALID', ...(m?.[2] !== undefined ? { path: m[2] } : {}) })
}

interface JsonResponse { statusCode: number, headers: http.IncomingHttpHeaders, body: unknown }

/**
 * Largest collector answer the agent reads (HTTP body; the stream's frames are
 * bounded by ws maxPayload to the same): a hostile or spoofed collector must not
 * grow the agent's memory. Past it the request is aborted and counts as a network error.
 */
export const MAX_RESPONSE_BYTES = 1024 * 1024

function parseRetryAfter (h: string | string[] | undefined): number | undefined {
  const v = Array.isArray(h) ? h[0] : h
  if (v === undefined) return undefined
  const secs = Number(v)
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000)
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

export class Transport {
  readonly #opts: TransportOptions
  readonly #ca: Buffer | undefined
  #token: string | undefined
  #ws: WebSocket | undefined
  #wsReady: Promise<WebSocket> | undefined
  #wsRetryAt = 0
  #rotationDue = false
  #pending: { resolve: (a: BatchAck) => void, reject: (e: Error) => void, timer: NodeJS.Timeout } | undefined

  constructor (opts: TransportOptions) {
    this.#opts = opts
    this.#token = opts.token
    this.#ca = opts.caFile === undefined ? undefined : fs.readFileSync(opts.caFile)
  }

  /** The collector asked (Vigie-Token-Rotate: due) for this agent's token to be exchanged. */
  get rotationDue (): boolean { return this.#rotationDue }

  /** Exchanges the current token for a new one; the caller persists it, then calls setToken. */
  async rotate (): Promise<AgentRotateResponse> {
    const res = await this.#request('POST', '/api/v1/agent/rotate', {}, true)
    if (res.statusCode === 200) {
      this.#rotationDue = false
      return res.body as AgentRotateResponse
    }
    throw this.#errorFrom(res)
  }

  setToken (token: string): void {
    this.#token = token
    this.#dropWs('token changed')
  }

  /** 'ws' while the stream is open, 'http' otherwise. */
  get channel (): 'ws' | 'http' {
    return this.#ws?.readyState === WebSocket.OPEN ? 'ws' : 'http'
  }

  /** Enrolls; `agentToken` (the current one, if any) proves a re-enrollment of the same machine. */
  async enroll (req: EnrollRequest, agentToken?: string): Promise<EnrollResponse> {
    const res = await this.#request('POST', '/api/v1/enroll', req, false, agentToken)
    if (res.statusCode === 200) return res.body as EnrollResponse
    throw this.#errorFrom(res)
  }

  /** Sends a batch; resolves with the acknowledgement, rejects with SendError. */
  async send (reports: Report[]): Promise<BatchAck> {
    const now = new Date().toISOString()
    for (const r of reports) r.agentClock = now
    if (this.#opts.mode !== 'http' && Date.now() >= this.#wsRetryAt) {
      try {
        const ws = await this.#openWs()
        return await this.#sendWs(ws, reports)
      } catch (err) {
        if (err instanceof SendError && err.kind !== 'network') throw err
        if (this.#opts.mode === 'ws') throw err
        // Fall back to HTTP for a while; try the stream again later.
        this.#wsRetryAt = Date.now() + 60_000
        this.#opts.log?.debug({ err: (err as Error).message }, 'stream unavailable, using HTTP')
      }
    }
    const res = await this.#request('POST', '/api/v1/reports', { reports }, true)
    if (res.statusCode === 200) return res.body as BatchAck
    throw this.#errorFrom(res)
  }

  #errorFrom (res: JsonResponse): SendError {
    const b = (res.body ?? {}) as { code?: string, message?: string, path?: string }
    const msg = `${res.statusCode} ${b.code ?? ''} ${b.message ?? ''}`.trim()
    const o = { statusCode: res.statusCode, code: b.code, path: b.path, retryAfterMs: parseRetryAfter(res.headers['retry-after']) }
    if (res.statusCode === 401) return new SendError('unauthorized', msg, o)
    if (res.statusCode === 403) return new SendError('forbidden', msg, o)
    if (res.statusCode === 413) return new SendError('too-large', msg, o)
    if (res.statusCode === 429 || res.statusCode === 503) return new SendError('busy', msg, o)
    if (res.statusCode >= 400 && res.statusCode < 500) return new SendError('rejected', msg, o)
    return new SendError('network', msg, o)
  }

  #request (method: string, path: string, body: unknown, auth: boolean, bearer?: string): Promise<JsonResponse> {
    const url = new URL(path, this.#opts.url + '/')
    const payload = Buffer.from(JSON.stringify(body))
    const lib = url.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': payload.length }
      if (auth && this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
      else if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`
      const req = lib.request(url, { method, headers, timeout: this.#opts.timeoutMs ?? 15_000, ...(this.#ca !== undefined ? { ca: this.#ca } : {}) }, (res) => {
        const chunks: Buffer[] = []
        let bytes = 0
        let over = false
        res.on('data', (c: Buffer) => {
          if (over) return
          bytes += c.length
          if (bytes > MAX_RESPONSE_BYTES) {
            over = true
            chunks.length = 0
            req.destroy()
            reject(new SendError('network', `collector answer over ${MAX_RESPONSE_BYTES} bytes; not read (aborted)`, { statusCode: res.statusCode }))
            return
          }
          chunks.push(c)
        })
        res.on('end', () => {
          if (over) return
          let parsed: unknown
          try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) } catch { parsed = undefined }
          if (res.headers[TOKEN_ROTATE_HEADER] === 'due') this.#rotationDue = true
          resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: parsed })
        })
        res.on('error', (err) => { if (!over) reject(new SendError('network', err.message)) })
      })
      req.on('timeout', () => { req.destroy(new Error('request timed out')) })
      req.on('error', (err) => { reject(new SendError('network', err.message)) })
      req.end(payload)
    })
  }

  #openWs (): Promise<WebSocket> {
    if (this.#ws?.readyState === WebSocket.OPEN) return Promise.resolve(this.#ws)
    if (this.#wsReady !== undefined) return this.#wsReady
    const url = this.#opts.url.replace(/^http/, 'ws') + '/api/v1/agent/stream'
    this.#wsReady = new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: this.#token !== undefined ? { authorization: `Bearer ${this.#token}` } : {},
        handshakeTimeout: this.#opts.timeoutMs ?? 15_000,
        maxPayload: MAX_RESPONSE_BYTES,
        ...(this.#ca !== undefined ? { ca: this.#ca } : {})
      })
      ws.once('open', () => {
        this.#ws = ws
        this.#wsReady = undefined
        this.#opts.log?.info({}, 'stream connected')
        resolve(ws)
      })
      ws.once('unexpected-response', (_req, res) => {
        this.#wsReady = undefined
        ws.terminate()
        reject(res.statusCode === 401 ? new SendError('unauthorized', 'stream refused: 401') : new SendError('network', `stream refused: ${res.statusCode ?? 0}`))
      })
      ws.on('error', (err) => {
        if (this.#wsReady !== undefined) { this.#wsReady = undefined; reject(new SendError('network', err.message)) }
      })
      ws.on('message', (data) => { this.#onMessage(String(data)) })
      ws.on('close', (code, reason) => {
        if (this.#ws === ws) this.#ws = undefined
        const why = `stream closed ${code} ${reason.toString()}`
        this.#opts.log?.info({ code, reason: reason.toString() }, 'stream closed')
        if (code === 4011) this.#rotationDue = true
        const p = this.#pending
        if (p !== undefined) {
          this.#pending = undefined
          clearTimeout(p.timer)
          // 4011 (rotation due) is like a network error: HTTP carries the rotation header.
          p.reject(code === STREAM_CLOSE.revoked || code === STREAM_CLOSE.unauthorized
            ? new SendError('unauthorized', why)
            : code === STREAM_CLOSE.badFrame
              ? badFrame(reason.toString())
              : code === STREAM_CLOSE.tooLarge
                ? new SendError('too-large', why)
                : code === 1013 ? new SendError('busy', why, { retryAfterMs: 30_000 }) : new SendError('network', why))
        }
      })
    })
    return this.#wsReady
  }

  #onMessage (text: string): void {
    let msg: { type?: string, stored?: number[], duplicates?: number[], code?: string, message?: string, path?: string, serverTime?: string, rotate?: string }
    try { msg = JSON.parse(text) as typeof msg } catch { return }
    if (msg.rotate === 'due') this.#rotationDue = true
    const p = this.#pending
    if (p === undefined) return
    this.#pending = undefined
    clearTimeout(p.timer)
    if (msg.type === 'ack') p.resolve({ stored: msg.stored ?? [], duplicates: msg.duplicates ?? [], serverTime: msg.serverTime ?? '' })
    // Only a permanent refusal (validation, seq conflict or jump, time outside the
    // window) means "this report will never be accepted": the agent drops the report
    // the path names. Anything else the collector could not do now: keep and retry.
    else if (msg.type === 'error') p.reject(new SendError(PERMANENT_CODES.has(msg.code ?? '') ? 'rejected' : 'busy', `${msg.code ?? ''} ${msg.message ?? ''}`, { code: msg.code, path: msg.path, retryAfterMs: 30_000 }))
  }

  #sendWs (ws: WebSocket, reports: Report[]): Promise<BatchAck> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined
        this.#dropWs('ack timeout')
        reject(new SendError('network', 'no acknowledgement within the timeout'))
      }, this.#opts.timeoutMs ?? 15_000)
      this.#pending = { resolve, reject, timer }
      ws.send(JSON.stringify({ type: 'reports', reports }), (err) => {
        if (err !== undefined && err !== null && this.#pending !== undefined) {
          clearTimeout(timer)
          this.#pending = undefined
          reject(new SendError('network', err.message))
        }
      })
    })
  }

  #dropWs (why: string): void {
    const ws = this.#ws
    this.#ws = undefined
    if (ws !== undefined) {
      this.#opts.log?.debug({ why }, 'closing stream')
      ws.terminate()
    }
  }

  close (): void {
    this.#dropWs('agent stopping')
    this.#wsRetryAt = Infinity
  }
}
