/**
 * One JSON error shape for every route: `{ statusCode, code, error, message[, path] }`.
 * Maps Fastify's own errors (bad JSON, body limit, validation) onto Vigie codes.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_CODES, VigieError, errorBody, type ErrorCode } from './errors.js'
import { storageFailure, storageMessage, type StorageFailure } from './storage-errors.js'

/** Seconds a client is told to wait after a storage failure (disk full, read-only, I/O error). */
export const STORAGE_RETRY_AFTER_SEC = 30

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'VIGIE_ERR_MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VIGIE_ERR_MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'VIGIE_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'VIGIE_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VIGIE_ERR_VALIDATION',
  FST_ERR_VALIDATION: 'VIGIE_ERR_VALIDATION',
  FST_ERR_RATE_LIMIT: 'VIGIE_ERR_RATE_LIMITED'
}

/** JSON pointer of the first failing field, as `/reports/0/seq` (or `body/…` for the where). */
function validationPath (err: FastifyError): string | undefined {
  const first = err.validation?.[0]
  if (first === undefined) return undefined
  let p = first.instancePath ?? ''
  const params = first.params as Record<string, unknown> | undefined
  if (typeof params?.missingProperty === 'string') p += '/' + params.missingProperty
  else if (Array.isArray(params?.requiredProperties) && typeof params.requiredProperties[0] === 'string') p += '/' + params.requiredProperties[0]
  else if (typeof params?.additionalProperty === 'string') p += '/' + params.additionalProperty
  return p === '' ? '/' : p
}

/**
 * A storage failure on any route: 503 VIGIE_ERR_STORE_UNAVAILABLE with Retry-After,
 * never 500. The body names the database by its file name only (clients may be
 * unauthenticated); the log names the full path.
 */
function storageReply (request: FastifyRequest, reply: FastifyReply, f: StorageFailure, err: unknown): FastifyReply {
  // the full path when the store is up (a failure may come before it is)
  const file = (request.server.dbFile as string | undefined) ?? 'vigie.db'
  request.log.warn({ file, code: f.code, err: (err as Error).message, method: request.method, url: request.url.split('?')[0] }, `storage failure: ${f.why} (${file})`)
  void reply.header('retry-after', String(STORAGE_RETRY_AFTER_SEC))
  return reply.code(503).send(errorBody('VIGIE_ERR_STORE_UNAVAILABLE', storageMessage(f, file)))
}

export function installErrorHandlers (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | VigieError, request, reply) => {
    // A raw database / file-system failure, or a store-unavailable error of another area that carries one.
    const storage = storageFailure(err) ?? (err instanceof VigieError && err.code === 'VIGIE_ERR_STORE_UNAVAILABLE' ? storageFailure(err.cause) : undefined)
    if (storage !== undefined) return storageReply(request, reply, storage, err instanceof VigieError && err.cause !== undefined ? err.cause : err)
    if (err instanceof VigieError) {
      if (err.headers !== undefined) void reply.headers(err.headers)
      return reply.code(err.statusCode).send(errorBody(err.code, err.message, err.path))
    }
    const fe = err as FastifyError
    // Errors of other areas that carry one of our stable codes keep it.
    if (typeof fe.code === 'string' && fe.code in ERROR_CODES) {
      return reply.code(ERROR_CODES[fe.code as ErrorCode].statusCode).send(errorBody(fe.code as ErrorCode, fe.message))
    }
    if (fe.validation !== undefined) {
      const where = fe.validationContext ?? 'body'
      const path = validationPath(fe)
      return reply.code(400).send(errorBody('VIGIE_ERR_VALIDATION', `${where}${path ?? ''} ${fe.validation[0]?.message ?? 'is invalid'}`, path))
    }
    const mapped = fe.code !== undefined ? FASTIFY_CODES[fe.code] : undefined
    if (mapped !== undefined) {
      return reply.code(errorBody(mapped, '').statusCode).send(errorBody(mapped, fe.message))
    }
    if (err instanceof SyntaxError && (fe.statusCode === 400)) {
      return reply.code(400).send(errorBody('VIGIE_ERR_MALFORMED_JSON', err.message))
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code: ErrorCode = fe.statusCode === 413 ? 'VIGIE_ERR_BODY_TOO_LARGE' : fe.statusCode === 415 ? 'VIGIE_ERR_UNSUPPORTED_MEDIA_TYPE' : 'VIGIE_ERR_VALIDATION'
      return reply.code(errorBody(code, '').statusCode).send(errorBody(code, fe.message))
    }
    request.log.error({ err }, 'unhandled error')
    return reply.code(500).send(errorBody('VIGIE_ERR_INTERNAL', 'unexpected server error; see the collector log'))
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody('VIGIE_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`))
  })
}
