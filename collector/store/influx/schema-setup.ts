/**
 * Bringing an InfluxDB server to the schema of schema.ts: the database, the
 * retention policies (raw = DEFAULT, and one per rollup, with the configured
 * durations) and the rollups' continuous queries. With `manageSchema` off it
 * only checks that the database and the `raw` policy exist. (Series budgets are
 * kept before the outbox, by the SQLite series registry, not in InfluxDB.)
 */
import { describeFailure } from './connection.js'
import { execRaw, type Health, type InfluxLink } from './link.js'
import {
  ROLLUPS, RP_RAW, createCqStatement, cqName, duration, ident, parseGoDurationMs, type Resample, type Rollup
} from './schema.js'

export interface SchemaSettings {
  /** raw retention, ms */
  rawRetentionMs: number
  /** retention of each rollup, ms */
  rollupRetentionMs: Record<Rollup['name'], number>
  /** create/alter (true) or only check (false) */
  manageSchema: boolean
  resample: Record<Rollup['name'], Resample>
}

/** The shipper's health, and whether writes can go ahead. */
export interface SchemaHealth extends Health {
  setSchemaReady (ready: boolean): void
}

/** Database, retention policies, continuous queries; true when writes can go ahead. Reports the outcome to `health`. */
export async function ensureSchema (link: InfluxLink, s: SchemaSettings, health: SchemaHealth): Promise<boolean> {
  const { conn, db, log } = link
  let step = 'listing databases'
  try {
    const dbs = await conn.client.getDatabaseNames()
    const want: Array<{ rp: string, ms: number, isDefault: boolean }> = [
      { rp: RP_RAW, ms: s.rawRetentionMs, isDefault: true },
      ...ROLLUPS.map((r) => ({ rp: r.rp, ms: s.rollupRetentionMs[r.name], isDefault: false }))
    ]
    if (!dbs.includes(db)) {
      step = s.manageSchema ? `creating database "${db}"` : `finding database "${db}"`
      if (!s.manageSchema) throw new Error(`database not found: "${db}" (manageSchema is off: create it as docs/storage.md shows)`)
      await execRaw(link, `CREATE DATABASE ${ident(db)}`, step)
      log.info({ database: db }, 'created InfluxDB database')
    }
    step = 'reading retention policies'
    const rps = await conn.client.showRetentionPolicies(db)
    for (const w of want) {
      const have = rps.find((p) => p.name === w.rp)
      if (!s.manageSchema) {
        if (have === undefined && w.rp === RP_RAW) throw new Error(`retention policy not found: "${RP_RAW}" (manageSchema is off: create it as docs/storage.md shows)`)
        continue
      }
      if (have !== undefined && parseGoDurationMs(have.duration) === w.ms && (have.default || !w.isDefault)) continue
      step = `${have === undefined ? 'creating' : 'altering'} retention policy "${w.rp}"`
      await execRaw(link, `${have === undefined ? 'CREATE' : 'ALTER'} RETENTION POLICY ${ident(w.rp)} ON ${ident(db)} ` +
        `DURATION ${duration(w.ms)} REPLICATION 1${w.isDefault ? ' DEFAULT' : ''}`, step)
      log.info({ rp: w.rp, duration: duration(w.ms) }, have === undefined ? 'created retention policy' : 'changed retention policy')
    }
    if (s.manageSchema) {
      step = 'reading continuous queries'
      const cqs = await conn.client.showContinousQueries(db)
      const wanted = new Map(ROLLUPS.map((r) => [cqName(db, r, s.resample[r.name]), r]))
      for (const cq of cqs) {
        if (cq.name.startsWith('vigie_rollup_') && !wanted.has(cq.name)) {
          step = `dropping continuous query "${cq.name}"`
          await execRaw(link, `DROP CONTINUOUS QUERY ${ident(cq.name)} ON ${ident(db)}`, step)
        }
      }
      for (const [name, rollup] of wanted) {
        if (cqs.some((cq) => cq.name === name)) continue
        step = `creating continuous query "${name}"`
        await execRaw(link, createCqStatement(db, rollup, s.resample[rollup.name]), step)
        log.info({ cq: name }, 'created continuous query')
      }
    }
    health.setSchemaReady(true)
    health.succeed()
    return true
  } catch (err) {
    health.setSchemaReady(false)
    health.fail(describeFailure(err, step, conn, db))
    return false
  }
}
