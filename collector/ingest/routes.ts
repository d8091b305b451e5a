/**
 * Agent-facing routes: enrollment, HTTP batch reports, and the WebSocket stream.
 */
import type { FastifyInstance } from 'fastify'
import type { WebSocket, RawData } from 'ws'
import { Compile } from 'typebox/compile'
import {
  BatchAck, EnrollRequest, EnrollResponse, ErrorBody, ReportBatch, StreamReports,
  LIMITS, MAX_STREAM_FRAME_BYTES, PROTOCOL_VERSION, STREAM_CLOSE
} from '../../protocol/index.js'
import { jsonDepthExceeds } from './closed.js'
import { VigieError } from '../core/errors.js'
import { bearerToken } from '../auth/guards.js'
import { enrollRateLimit } from '../agents/enroll-limit.js'

const streamCheck = Compile(StreamReports)

function errorResponses (...codes: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {}
  for (const c of codes) out[c] = ErrorBody
  return out
}

export async function ingestRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const { ingest, counters, config } = app
  const agentAuth = app.requireAgent

  const enrollLimit = await enrollRateLimit(app, config)
  // Agent bodies: nesting depth checked on the raw bytes before parsing, so no deep
  // structure reaches the parser, the validator or any serialiser. This plugin's
  // routes only (Fastify encapsulation); the parsing itself stays Fastify's own
  // (prototype-poisoning protection included).
  const defaultJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const buf = body as Buffer
    if (jsonDepthExceeds(buf, LIMITS.maxJsonDepth)) {
      done(new VigieError('VIGIE_ERR_JSON_TOO_DEEP', `body nests arrays/objects deeper than ${LIMITS.maxJsonDepth}`), undefined)
      return
    }
    void defaultJson(request, buf.toString('utf8'), done)
  })

  app.post('/api/v1/enroll', {
    onRequest: enrollLimit,
    schema: {
      summary: 'Enroll an agent with an enrollment token; returns its id and secret token. A machine key already known keeps its id only with that machine\'s current agent token (Authorization: Bearer); otherwise the machine is new and pending approval',
      tags: ['agent'],
      body: EnrollRequest,
      response: { 200: EnrollResponse, ...errorResponses(400, 401, 413, 429, 503) }
    }
  }, async (request) => {
    const body = request.body as EnrollRequest
    const agentToken = bearerToken(request)
    // The cap is checked before the enrollment token is used: a refusal costs the token nothing.
    if (!await app.agents.isReenrollment(body.machineKey, agentToken) && await app.agents.countMachines() >= config.maxMachines) {
      request.log.warn({ maxMachines: config.maxMachines }, 'enrollment refused: machine cap reached')
      throw new VigieError('VIGIE_ERR_MACHINE_LIMIT', `the collector holds its maximum of ${config.maxMachines} machines (VIGIE_MAX_MACHINES); revoke unused machines or raise the cap`, { headers: { 'retry-after': '3600' } })
    }
    const fixed = config.enrollToken !== undefined && body.enrollToken === config.enrollToken
    if (!fixed && !await app.enrollTokens.consume(body.enrollToken)) {
      counters.inc('auth_failures')
      throw new VigieError('VIGIE_ERR_ENROLL_TOKEN')
    }
    const out = await app.agents.enroll({ hostname: body.hostname, machineKey: body.machineKey, hardware: body.hardware, agentToken })
    counters.inc('enrollments')
    // A re-enrollment retires the old token: streams opened with it close (the agent reconnects with the new one).
    if (out.reenrolled) app.streams.closeAgent(out.agentId, STREAM_CLOSE.unauthorized, 'agent re-enrolled: token replaced')
    if (out.identity !== undefined) {
      request.log.warn({ agentId: out.agentId, machine: body.hostname, machineKeySharedWith: out.identity.machineKeySharedWith, hardwareDiffers: out.identity.hardwareDiffers },
        out.identity.hardwareDiffers
          ? 'enrollment with a machine key already known and different hardware (a cloned image?): a distinct machine, pending approval'
          : 'enrollment with a machine key already known, without that machine\'s agent token: a new machine, pending approval')
    } else {
      request.log.info({ agentId: out.agentId, machine: body.hostname, agentVersion: body.agentVersion, reenrolled: out.reenrolled }, 'agent enrolled')
    }
    return {
      agentId: out.agentId,
      agentToken: out.token,
      protocolVersion: PROTOCOL_VERSION,
      reportIntervalSec: config.reportIntervalSec,
      serverTime: new Date().toISOString(),
      lastSeq: out.lastSeq,
      status: out.status
    }
  })

  app.post('/api/v1/reports', {
    onRequest: agentAuth,
    schema: {
      summary: 'Send a batch of reports; answers which seq were stored and which were duplicates',
      tags: ['agent'],
      body: ReportBatch,
      response: { 200: BatchAck, ...errorResponses(400, 401, 403, 413, 503) }
    }
  }, async (request) => {
    const body = request.body as ReportBatch
    const agentId = request.agent!.id
    const out = await ingest.ingestQueued(agentId, body.reports)
    return { ...out, serverTime: new Date().toISOString() }
  })

  app.get('/api/v1/agent/stream', {
    websocket: true,
    onRequest: agentAuth,
    schema: { summary: 'WebSocket: frames {type:"reports"} in, {type:"ack"} / {type:"error"} out', tags: ['agent'] }
  }, (socket: WebSocket, request) => {
    const agentId = request.agent!.id
    app.streams.add(agentId, socket)
    request.log.debug({ agentId }, 'agent stream open')
    socket.on('message', (data: RawData, isBinary: boolean) => {
      onFrame(socket, agentId, data, isBinary)
    })
    socket.on('close', () => { app.streams.remove(agentId, socket) })
    // ws closes oversized frames itself (1009); count them like any refused frame.
    socket.on('error', (err: Error & { code?: string }) => {
      counters.inc('stream_frames_rejected')
      request.log.info({ agentId, code: err.code }, 'agent stream error')
    })
  })

  function onFrame (socket: WebSocket, agentId: string, data: RawData, isBinary: boolean): void {
    // A revoked agent is refused at once, even on a stream opened before the revocation.
    if (!app.agents.isActive(agentId)) {
      socket.close(STREAM_CLOSE.revoked, 'agent revoked')
      return
    }
    // limits: per-agent frame rate (collector/limits); the agent falls back to HTTP and its 429 Retry-After.
    if (!app.agentFrameAllowed(agentId)) {
      socket.close(1013, 'VIGIE_ERR_RATE_LIMITED: too many frames; retry later')
      return
    }
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength
    if (size > MAX_STREAM_FRAME_BYTES) {
      counters.inc('stream_frames_rejected')
      socket.close(STREAM_CLOSE.tooLarge, 'VIGIE_ERR_FRAME_TOO_LARGE')
      return
    }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
    if (!isBinary && jsonDepthExceeds(buf, LIMITS.maxJsonDepth)) {
      counters.inc('stream_frames_rejected')
      socket.close(STREAM_CLOSE.badFrame, `VIGIE_ERR_JSON_TOO_DEEP: frame nests deeper than ${LIMITS.maxJsonDepth}`)
      return
    }
    let msg: unknown
    try {
      if (isBinary) throw new Error('binary frame')
      msg = JSON.parse(buf.toString('utf8'))
    } catch {
      counters.inc('stream_frames_rejected')
      socket.close(STREAM_CLOSE.badFrame, 'VIGIE_ERR_FRAME_INVALID: not a JSON text frame')
      return
    }
    if (!streamCheck.Check(msg)) {
      counters.inc('stream_frames_rejected')
      const first = streamCheck.Errors(msg)[0]
      const path = first?.instancePath ?? '/'
      // A well-formed JSON message that fails the schema closes the stream too: an
      // agent that sends it is broken, and it will fall back to HTTP, where the 400
      // names the field.
      socket.close(STREAM_CLOSE.badFrame, `VIGIE_ERR_FRAME_INVALID: ${path} ${first?.message ?? 'invalid'}`.slice(0, 120))
      return
    }
    const reports = msg.reports
    ingest.ingestQueued(agentId, reports).then((out) => {
      const rotate = app.tokenRotationDue?.(agentId) === true ? { rotate: 'due' } : {}
      socket.send(JSON.stringify({ type: 'ack', stored: out.stored, duplicates: out.duplicates, serverTime: new Date().toISOString(), ...rotate }))
    }, (err: unknown) => {
      const e = err instanceof VigieError ? err : new VigieError('VIGIE_ERR_INTERNAL', 'unexpected error', { cause: err })
      if (e.code === 'VIGIE_ERR_AGENT_MISMATCH') {
        socket.close(STREAM_CLOSE.forbidden, `${e.code}: ${e.message}`.slice(0, 120))
        return
      }
      // The seqs the error is about: the one report named by the path (seq conflict,
      // seq jump, time), else the whole frame. Nothing of the frame was stored.
      const idx = /^\/reports\/(\d+)\//.exec(e.path ?? '')?.[1]
      const seqs = idx !== undefined && reports[Number(idx)] !== undefined ? [reports[Number(idx)].seq] : reports.map(r => r.seq)
      const frame: Record<string, unknown> = { type: 'error', code: e.code, message: e.message, seqs }
      if (e.path !== undefined) frame.path = e.path
      socket.send(JSON.stringify(frame))
    })
  }
}
