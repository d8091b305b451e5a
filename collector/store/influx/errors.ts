/**
 * Stable error codes of the InfluxDB metric store. Callers match on `code`.
 * (To be folded into collector/core/errors.ts and docs/errors.md with the others.)
 */

export type MetricStoreErrorCode =
  /** the durable outbox holds `maxBacklog` points: refuse the report (503), keep what was accepted */
  | 'VIGIE_ERR_METRIC_BACKLOG_FULL'
  /** InfluxDB cannot answer a read right now */
  | 'VIGIE_ERR_METRIC_STORE_UNAVAILABLE'
  /** the store's options are unusable (bad URL, database name, sizes) */
  | 'VIGIE_ERR_METRIC_STORE_CONFIG'
  /** a series query asks for something impossible (step ≤ 0, non-finite range) */
  | 'VIGIE_ERR_METRIC_QUERY_INVALID'

const STATUS: Record<MetricStoreErrorCode, number> = {
  VIGIE_ERR_METRIC_BACKLOG_FULL: 503,
  VIGIE_ERR_METRIC_STORE_UNAVAILABLE: 503,
  VIGIE_ERR_METRIC_STORE_CONFIG: 500,
  VIGIE_ERR_METRIC_QUERY_INVALID: 400
}

/** An error with a stable `code` and the HTTP status it maps to. */
export class MetricStoreError extends Error {
  readonly code: MetricStoreErrorCode
  readonly statusCode: number

  constructor (code: MetricStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MetricStoreError'
    this.code = code
    this.statusCode = STATUS[code]
  }
}
