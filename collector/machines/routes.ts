/**
 * Technician read API for machines: the fleet list (filter, sort, page), one
 * machine, its series, a series over a time range at a step, its inventory.
 */
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { VigieError } from '../core/errors.js'
import type { MachineRow } from '../store/sqlite/registry.js'
import { STATUS_RANK, type MachineStatus, type Worst } from './status.js'
import type { FleetEntry } from './fleet-index.js'
import { parseDuration, parseTime } from '../core/time-params.js'
import { MachineDetail, MachineList, MachineSummary, Status } from './schema.js'
import { answerStep, serializeAnswer } from './metric-answer.js'

const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200, description: 'matches hostname, user, model, OS, serial' })),
  software: Type.Optional(Type.String({ maxLength: 200, description: 'installed application name, optionally name@version' })),
  status: Type.Optional(Status),
  group: Type.Optional(Type.String({ maxLength: 128, description: 'exact machine group' })),
  sort: Type.Optional(Type.Union([Type.Literal('worst'), Type.Literal('hostname'), Type.Literal('lastSeen')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 }))
})

const MetricsQuery = Type.Object({
  name: Type.String({ pattern: '^[a-z][a-z0-9_.]*$', maxLength: 128 }),
  labels: Type.Optional(Type.String({ maxLength: 1024, description: 'JSON object of label values, e.g. {"mount":"/"}' })),
  from: Type.Optional(Type.String({ description: 'ISO time, epoch ms, or a duration back from now such as 1h (default 1h)' })),
  to: Type.Optional(Type.String({ description: 'ISO time or epoch ms (default now)' })),
  step: Type.Optional(Type.String({ description: 'bucket width: ms or a duration such as 30s, 5m (default: range / 300)' })),
  agg: Type.Optional(Type.Union([Type.Literal('avg'), Type.Literal('min'), Type.Literal('max'), Type.Literal('last')]))
})

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) })

export function summarize (m: FleetEntry, status: { status: MachineStatus, worst?: Worst }): MachineSummary {
  const s: MachineSummary = {
    id: m.id,
    hostname: m.hostname,
    os: m.host.os,
    osVersion: m.host.osVersion,
    status: status.status,
    lastSeenAt: new Date(m.lastSeenMs).toISOString(),
    lastSampledAt: new Date(m.lastSampledMs).toISOString()
  }
  if (status.worst !== undefined) s.worst = status.worst
  if (m.host.model !== undefined) s.model = m.host.model
  if (m.host.user !== undefined) s.user = m.host.user
  if (m.host.group !== undefined) s.group = m.host.group
  if (m.cpuPct !== undefined) s.cpuPct = m.cpuPct
  if (m.memPct !== undefined) s.memPct = m.memPct
  if (m.diskPct !== undefined) s.diskPct = m.diskPct
  if (m.tempC !== undefined) s.tempC = m.tempC
  if (m.batteryHealthPct !== undefined) s.batteryHealthPct = m.batteryHealthPct
  return s
}

/** Summary of one machine now, as the list and the live socket show it. */
export async function summaryOf (app: FastifyInstance, id: string): Promise<MachineSummary | undefined> {
  const e = app.fleet.get(id)
  return e === undefined ? undefined : summarize(e, app.status.statusOf(e, app.now(), await app.status.worstOf(id)))
}

export async function machineRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const viewer = app.requireRole('viewer')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }

  function machineOr404 (id: string): MachineRow {
    const m = app.registry.getMachine(id)
    if (m === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no machine ${id}`)
    return m
  }

  app.get('/api/v1/machines', {
    onRequest: viewer,
    schema: { summary: 'Fleet list with status, filters, sort and paging', tags: ['machines'], querystring: ListQuery, response: { 200: MachineList, ...errors } }
  }, async (request) => {
    const q = request.query as Static<typeof ListQuery>
    const now = app.now()
    let entries: FleetEntry[] = [...app.fleet.all()]
    if (q.software !== undefined) {
      const at = q.software.lastIndexOf('@')
      const [name, version] = at > 0 ? [q.software.slice(0, at), q.software.slice(at + 1)] : [q.software, undefined]
      const ids = new Set(app.registry.machinesWithSoftware(name, version))
      entries = entries.filter(m => ids.has(m.id))
    }
    if (q.group !== undefined) entries = entries.filter(m => m.host.group === q.group)
    if (q.q !== undefined && q.q.trim() !== '') {
      const needle = q.q.trim().toLowerCase()
      entries = entries.filter(m => m.search.includes(needle))
    }
    // One lookup of every open incident instead of one per machine.
    const worst = await app.status.worstAll()
    const all = entries.map(m => summarize(m, app.status.statusOf(m, now, worst.get(m.id))))
    const counts: Record<string, number> = {}
    for (const s of all) counts[s.status] = (counts[s.status] ?? 0) + 1
    let items = q.status === undefined ? all : all.filter(s => s.status === q.status)
    const sort = q.sort ?? 'worst'
    const byName = (a: MachineSummary, b: MachineSummary): number => a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0
    if (sort === 'worst') items.sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || byName(a, b))
    else if (sort === 'lastSeen') items.sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt))
    else items.sort(byName)
    const offset = q.offset ?? 0
    const total = items.length
    items = items.slice(offset, offset + (q.limit ?? 100))
    return { total, offset, items, counts }
  })

  app.get('/api/v1/machines/:id', {
    onRequest: viewer,
    schema: { summary: 'One machine: status, host facts, latest values', tags: ['machines'], params: IdParams, response: { 200: MachineDetail, ...errors } }
  }, async (request) => {
    const m = machineOr404((request.params as { id: string }).id)
    const now = app.now()
    const st = app.status.statusOf(m, now, await app.status.worstOf(m.id))
    return {
      id: m.id,
      hostname: m.hostname,
      status: st.status,
      ...(st.worst !== undefined ? { worst: st.worst } : {}),
      host: m.host,
      online: app.status.isOnline(m, now),
      streaming: app.streams.isConnected(m.id),
      firstSeenAt: new Date(m.firstSeenMs).toISOString(),
      lastSeenAt: new Date(m.lastSeenMs).toISOString(),
      lastSampledAt: new Date(m.lastSampledMs).toISOString(),
      lastSeq: m.lastSeq,
      clockSkewMs: m.clockSkewMs,
      droppedReports: m.droppedReports,
      latest: m.latest,
      unavailable: m.unavailable,
      inventoryHash: m.inventoryHash
    }
  })

  app.get('/api/v1/machines/:id/series', {
    onRequest: viewer,
    schema: { summary: "The machine's stored series (name, labels, unit)", tags: ['machines'], params: IdParams }
  }, async (request) => {
    const m = machineOr404((request.params as { id: string }).id)
    return { machineId: m.id, series: await app.metrics.listSeries(m.id) }
  })

  app.get('/api/v1/machines/:id/metrics', {
    onRequest: viewer,
    schema: { summary: 'A series over a time range, aggregated per step', tags: ['machines'], params: IdParams, querystring: MetricsQuery }
  }, async (request, reply) => {
    const m = machineOr404((request.params as { id: string }).id)
    const q = request.query as Static<typeof MetricsQuery>
    const now = app.now()
    const toMs = q.to === undefined ? now : parseTime(q.to, now, 'to')
    const fromMs = q.from === undefined ? toMs - 3_600_000 : parseTime(q.from, toMs, 'from')
    if (!(fromMs < toMs)) throw new VigieError('VIGIE_ERR_VALIDATION', 'from must be before to', { path: '/from' })
    // budgets: a bounded range, and bounded points per series and per answer
    // (VIGIE_QUERY_MAX_RANGE_DAYS, VIGIE_QUERY_MAX_POINTS, VIGIE_QUERY_MAX_ANSWER_POINTS)
    const maxRangeMs = app.config.queryMaxRangeDays * 86_400_000
    if (toMs - fromMs > maxRangeMs) throw new VigieError('VIGIE_ERR_VALIDATION', `the range is longer than ${app.config.queryMaxRangeDays} days (VIGIE_QUERY_MAX_RANGE_DAYS); ask for a shorter range`, { path: '/from' })
    const askedStepMs = q.step === undefined ? undefined : parseDuration(q.step, 'step')
    let labels: Record<string, string> | undefined
    if (q.labels !== undefined) {
      try {
        const parsed = JSON.parse(q.labels) as unknown
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some(v => typeof v !== 'string')) throw new Error('not an object of strings')
        labels = parsed as Record<string, string>
      } catch {
        throw new VigieError('VIGIE_ERR_VALIDATION', 'labels must be a JSON object of strings, e.g. {"mount":"/"}', { path: '/labels' })
      }
    }
    const count = await app.metrics.countSeries(m.id, q.name, labels)
    const stepMs = answerStep(fromMs, toMs, askedStepMs, count, { maxPoints: app.config.queryMaxPoints, maxAnswerPoints: app.config.queryMaxAnswerPoints })
    const series = count === 0 ? [] : await app.metrics.query({ machineId: m.id, name: q.name, labels, fromMs, toMs, stepMs, aggregate: q.agg })
    const text = await serializeAnswer({ machineId: m.id, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), stepMs }, series)
    return await reply.type('application/json; charset=utf-8').send(text)
  })

  app.get('/api/v1/machines/:id/inventory', {
    onRequest: viewer,
    schema: { summary: 'Installed software and its change history', tags: ['machines'], params: IdParams }
  }, async (request) => {
    const m = machineOr404((request.params as { id: string }).id)
    return { machineId: m.id, hash: m.inventoryHash, apps: app.registry.getInventory(m.id), changes: app.registry.getInventoryChanges(m.id) }
  })
}
