/**
 * What the InfluxDB store's parts share: one server and database, one log, the
 * two ways of sending InfluxQL (a read, answered as the MetricStore contract
 * wants its errors; a statement, whose error the caller classifies), and where
 * they tell the shipper that InfluxDB answered or failed.
 */
import { describeFailure, type Failure, type InfluxConnection } from './connection.js'
import { MetricStoreError } from './errors.js'

/** The part of a pino/Fastify logger the store uses. */
export interface StoreLogger {
  debug (obj: object, msg: string): void
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export const NOOP_LOGGER: StoreLogger = { debug () {}, info () {}, warn () {}, error () {} }

export interface InfluxLink {
  conn: InfluxConnection
  /** database name */
  db: string
  log: StoreLogger
}

/** Where the schema set-up and the repairs report each contact with InfluxDB (the shipper's health and backoff). */
export interface Health {
  succeed (): void
  fail (f: Failure): void
}

export interface RawResponse {
  results?: Array<{
    error?: string
    series?: Array<{ name: string, tags?: Record<string, string>, columns: string[], values: unknown[][] }>
  }>
}

/** A read: every failure is VIGIE_ERR_METRIC_STORE_UNAVAILABLE; a missing database answers nothing. */
export async function readRaw (link: InfluxLink, q: string, action: string): Promise<RawResponse> {
  let res: RawResponse
  try {
    res = await link.conn.client.queryRaw(q, { database: link.db, precision: 'ms' }) as RawResponse
  } catch (err) {
    const f = describeFailure(err, action, link.conn, link.db)
    throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE', f.message, { cause: err })
  }
  const error = res.results?.[0]?.error
  if (error !== undefined) {
    if (/database not found/.test(error)) return { results: [{}] }
    throw new MetricStoreError('VIGIE_ERR_METRIC_STORE_UNAVAILABLE', `${action} at ${link.conn.safeUrl}: ${error}`)
  }
  return res
}

/** A statement (POST); throws the client's error, or `<action>: <error>` for an error in the answer. */
export async function execRaw (link: InfluxLink, q: string, action: string): Promise<RawResponse> {
  const res = await link.conn.client.queryRaw(q, { database: link.db, method: 'POST', precision: 'ms' }) as RawResponse
  const error = res.results?.find((r) => r.error !== undefined)?.error
  if (error !== undefined) throw new Error(`${action}: ${error}`)
  return res
}
