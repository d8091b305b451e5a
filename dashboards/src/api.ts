/**
 * The collector's HTTP API as the dashboards use it. A 401 signs the viewer out
 * (their token was revoked); other errors are thrown as ApiError with the
 * collector's stable `code`.
 */
import { authHeaders, signOut } from './auth.js'
import type {
  Incident, IncidentList, InstalledApp, InventoryChange, KbArticle, KbArticleBody, MachineDetail, MachineList, SeriesData, SeriesInfo
} from './types.js'

export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string) { super(message) }
}

async function request<T> (method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(method), accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  } catch (err) {
    throw new ApiError(0, 'NETWORK', (err as Error).message)
  }
  if (res.status === 401) {
    signOut()
    throw new ApiError(401, 'VIGIE_ERR_UNAUTHORIZED', 'signed out')
  }
  const text = await res.text()
  let json: unknown
  try { json = text === '' ? {} : JSON.parse(text) } catch { json = { message: text } }
  if (!res.ok) {
    const e = json as { code?: string, message?: string }
    throw new ApiError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? `HTTP ${res.status}`)
  }
  return json as T
}

function qs (params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v))
  const s = u.toString()
  return s === '' ? '' : '?' + s
}

export interface MachineQuery { q?: string, software?: string, status?: string, sort?: string, limit?: number, offset?: number }

export const api = {
  machines: async (p: MachineQuery) => await request<MachineList>('GET', 'api/v1/machines' + qs({ ...p })),
  machine: async (id: string) => await request<MachineDetail>('GET', `api/v1/machines/${encodeURIComponent(id)}`),
  series: async (id: string) => await request<{ series: SeriesInfo[] }>('GET', `api/v1/machines/${encodeURIComponent(id)}/series`),
  metrics: async (id: string, p: { name: string, labels?: Record<string, string>, from: string, to?: string, step?: string, agg?: string }) =>
    await request<{ series: SeriesData[], stepMs?: number }>('GET', `api/v1/machines/${encodeURIComponent(id)}/metrics` + qs({
      name: p.name, labels: p.labels !== undefined && Object.keys(p.labels).length > 0 ? JSON.stringify(p.labels) : undefined, from: p.from, to: p.to, step: p.step, agg: p.agg
    })),
  inventory: async (id: string) => await request<{ apps: InstalledApp[], changes: InventoryChange[] }>('GET', `api/v1/machines/${encodeURIComponent(id)}/inventory`),

  incidents: async (p: { state?: string, machineId?: string, severity?: string, q?: string, limit?: number, offset?: number }) =>
    await request<IncidentList>('GET', 'api/v1/incidents' + qs(p)),
  incident: async (id: string) => await request<Incident>('GET', `api/v1/incidents/${encodeURIComponent(id)}`),
  incidentAction: async (id: string, action: 'acknowledge' | 'assign' | 'notes' | 'resolve' | 'reopen', body: Record<string, unknown>) =>
    await request<Incident>('POST', `api/v1/incidents/${encodeURIComponent(id)}/${action}`, body),
  silence: async (body: { machineId?: string, keyPattern?: string, until: string, reason: string }) =>
    await request<unknown>('POST', 'api/v1/silences', body),

  kbSearch: async (q: string) => await request<{ items: KbArticle[], total?: number } | KbArticle[]>('GET', 'api/v1/kb' + qs({ q })),
  kbGet: async (id: string) => await request<KbArticle>('GET', `api/v1/kb/${encodeURIComponent(id)}`),
  kbCreate: async (a: KbArticleBody) => await request<KbArticle>('POST', 'api/v1/kb', a),
  kbUpdate: async (id: string, a: KbArticleBody) => await request<KbArticle>('PUT', `api/v1/kb/${encodeURIComponent(id)}`, a)
}

/** The KB list may come as an array or as `{ items }`; the dashboards accept both. */
export function kbItems (r: { items: KbArticle[] } | KbArticle[]): KbArticle[] {
  return Array.isArray(r) ? r : r.items
}

/** Incident action answers may wrap the incident; reads either shape. */
export function unwrapIncident (r: unknown): Incident | undefined {
  if (r === null || typeof r !== 'object') return undefined
  const o = r as { incident?: Incident, id?: string }
  if (o.incident !== undefined) return o.incident
  return typeof o.id === 'string' ? (r as Incident) : undefined
}
