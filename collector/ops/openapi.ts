/**
 * Builds the OpenAPI 3.1 document from the routes' own TypeBox schemas, so the
 * document can never drift from what the collector validates.
 */
import type { RouteOptions } from 'fastify'

type Json = Record<string, unknown>

function strip (schema: unknown): unknown {
  // TypeBox adds symbol keys and `$id`-less objects; JSON round-trip keeps plain JSON Schema.
  return schema === undefined ? undefined : JSON.parse(JSON.stringify(schema)) as unknown
}

function parameters (schema: unknown, where: 'query' | 'path'): Json[] {
  const s = strip(schema) as { properties?: Record<string, Json>, required?: string[] } | undefined
  if (s?.properties === undefined) return []
  return Object.entries(s.properties).map(([name, sch]) => ({
    name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: sch,
    ...(typeof sch.description === 'string' ? { description: sch.description } : {})
  }))
}

export function buildOpenApi (routes: RouteOptions[]): Json {
  const paths: Record<string, Record<string, Json>> = {}
  for (const r of routes) {
    if (r.url === '*' || r.url.startsWith('/assets') || r.method === 'HEAD') continue
    // The dashboard's pages are marked hidden and are not part of the API; WebSocket routes
    // are marked hidden by @fastify/websocket but are, so they stay.
    if ((r.schema as { hide?: boolean } | undefined)?.hide === true && (r as { websocket?: boolean }).websocket !== true) continue
    const methods = Array.isArray(r.method) ? r.method : [r.method]
    const url = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const schema = (r.schema ?? {}) as Json
    for (const method of methods) {
      if (method === 'HEAD') continue
      const op: Json = {
        summary: schema.summary ?? '',
        tags: schema.tags ?? [],
        parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')]
      }
      if (schema.body !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: strip(schema.body) } } }
      const responses: Json = {}
      for (const [code, s] of Object.entries((schema.response ?? {}) as Json)) {
        responses[code] = { description: code, content: { 'application/json': { schema: strip(s) } } }
      }
      op.responses = Object.keys(responses).length > 0 ? responses : { 200: { description: 'OK' } }
      ;(paths[url] ??= {})[method.toLowerCase()] = op
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Vigie collector API', version: '1', description: 'Errors: { statusCode, code, error, message[, path] }; codes in docs/errors.md' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths
  }
}
