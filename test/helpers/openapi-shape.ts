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
      const parameters = ((op.parameters ?? []) as Json[])
        .map((p) => ({ in: p.in, name: p.name, required: p.required === true, schema: p.schema }))
        .sort((a, b) => `${a.in as string}:${a.name as string}`.localeCompare(`${b.in as string}:${b.name as string}`))
      const responses: Json = {}
      for (const [code, r] of Object.entries((op.responses ?? {}) as Json)) responses[code] = jsonSchema(r.content) ?? null
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
