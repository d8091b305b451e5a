/**
 * The OpenAPI 3.1 document at /docs, written by @fastify/swagger from the routes' own
 * TypeBox schemas, so it cannot drift from what the collector validates.
 */
import type { SwaggerOptions } from '@fastify/swagger'

/** patternProperties under a name the library's OpenAPI 3.0 conversion leaves alone. */
const KEPT = 'x-vigie-pattern-properties'

/**
 * Renames `from` keys to `to` in a JSON copy of `value`. @fastify/swagger turns
 * patternProperties into additionalProperties (OpenAPI 3.0 has no patternProperties),
 * which would drop the rule on label names (`^[a-z][a-z0-9_]{0,31}$`); 3.1 is JSON
 * Schema 2020-12 and has them, so they are hidden from the conversion and restored.
 */
function renameKey (value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map(v => renameKey(v, from, to))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k === from ? to : k] = renameKey(v, from, to)
  return out
}

export const swaggerOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: { title: 'Vigie collector API', version: '1', description: 'Errors: { statusCode, code, error, message[, path] }; codes in docs/errors.md' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }]
  },
  // OpenAPI 3.1 has `const`; keep it as the routes declare it.
  convertConstToEnum: false,
  transform: ({ schema, url, route }) => {
    // A copy for the document only: the route validates with its own schema.
    const doc = (schema === undefined ? schema : renameKey(JSON.parse(JSON.stringify(schema)), 'patternProperties', KEPT)) as typeof schema
    // @fastify/websocket marks its routes hidden; /api/v1/live and /api/v1/agent/stream
    // are part of the API (upgrade request, token, close codes), so they stay. The
    // dashboard's pages are hidden and stay out.
    if ((route as { websocket?: boolean }).websocket === true) return { schema: { ...doc, hide: false }, url }
    return { schema: doc, url }
  },
  transformObject: (doc) => {
    const written = 'openapiObject' in doc ? doc.openapiObject : doc.swaggerObject
    return renameKey(written, KEPT, 'patternProperties') as typeof written
  }
}
