/**
 * The parts of an OpenAPI document a client depends on — paths, methods, parameters,
 * bodies and response schemas — in a form that does not depend on which library wrote
 * the document, so the API can be compared byte for byte across a rewrite of /docs.
 */
type Json = Record<string, any>

function sortKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const out: Json = {}
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Json)[k])
  return out
}

function jsonSchema (content: Json | undefined): unknown {
  return content?.['application/json']?.schema
}

export function apiShape (doc: Json): Json {
  const shape: Json = {}
  for (const [url, ops] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(ops as Json)) {
      // A parameter's description may sit on the parameter or in its schema (both
      // valid OpenAPI): compared in the schema.
      const parameters = ((op.parameters ?? []) as Json[])
        .map((p) => ({
          in: p.in,
          name: p.name,
          required: p.required === true,
          schema: p.description === undefined || p.schema?.description !== undefined ? p.schema : { ...p.schema, description: p.description }
        }))
        .sort((a, b) => `${a.in as string}:${a.name as string}`.localeCompare(`${b.in as string}:${b.name as string}`))
      const responses: Json = {}
      // No content and a body that is JSON null say the same: nothing to read.
      for (const [code, r] of Object.entries((op.responses ?? {}) as Json)) {
        const body = jsonSchema(r.content)
        responses[code] = body === undefined || (body as Json).type === 'null' ? null : body
      }
      shape[`${method.toUpperCase()} ${url}`] = {
        summary: op.summary ?? '',
        tags: op.tags ?? [],
        parameters,
        body: jsonSchema(op.requestBody?.content) ?? null,
        responses
      }
    }
  }
  return sortKeys(shape) as Json
}
