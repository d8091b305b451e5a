/**
 * Collector entry point: `tsx collector/main.ts [command]`.
 *   (none)                       start the collector
 *   create-token --role R --name N [--expires-days D]   print a new technician API token (admin,
 *                                technician, viewer) valid D days (default VIGIE_API_TOKEN_DAYS, 90)
 *   create-enroll-token [--name N] [--expires-hours H] [--max-uses K]   print a new enrollment token
 *   create-user --username U [--role R]   create a technician account; the password is read from
 *                                         stdin (first line) or, when stdin is a terminal or empty,
 *                                         generated and printed once
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildApp } from './app.js'
import { ConfigError, loadCollectorConfig } from './core/config.js'
import { openDb } from './store/sqlite/db.js'
import { Registry } from './store/sqlite/registry.js'
import { SqliteMetricStore } from './store/sqlite/metrics.js'
import { ApiTokens, type Role } from './auth/api-tokens.js'
import { SqliteApiTokenStore } from './auth/sqlite-api-tokens.js'
import { EnrollTokens } from './agents/enroll-tokens.js'
import { SqliteEnrollTokenStore } from './agents/sqlite-enroll-tokens.js'
import type { FastifyInstance } from 'fastify'
import { UserStore } from './auth/users.js'
import { generatePassword, hashPassword, passwordProblem } from './auth/passwords.js'
import { audit } from './audit/audit.js'
import { SqliteAuditLog } from './audit/sqlite-audit-log.js'

export interface StartedCollector {
  app: FastifyInstance
  url: string
  /** set only on the first start, when the admin token was just created */
  adminToken?: string
}

/** Builds the app, creates the first admin token if there is none, listens. */
export async function startCollector (overrides: Parameters<typeof buildApp>[0] = {}): Promise<StartedCollector> {
  const app = await buildApp(overrides)
  const cfg = app.config
  let adminToken: string | undefined
  if (await app.apiTokens.count() === 0) {
    const now = app.now()
    adminToken = (await app.apiTokens.create('admin', 'first admin', now, now + cfg.apiTokenDays * 86_400_000)).token
  }
  await app.listen({ host: cfg.host, port: cfg.port })
  const addr = app.server.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port
  const host = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host
  const scheme = cfg.tlsCert !== undefined ? 'https' : 'http'
  return { app, url: `${scheme}://${host}:${port}`, adminToken }
}

/** Command-line tools tell on stderr when they tighten the data folder's modes. */
const cliLog = (_level: string, message: string): void => { process.stderr.write(`vigie-collector: ${message}\n`) }

/** The database's tokens without a running collector (the registry migrates the schema first). */
function tokensOnly (): { apiTokens: ApiTokens, enrollTokens: EnrollTokens, close: () => void } {
  const cfg = loadCollectorConfig()
  const db = openDb(path.join(cfg.dataDir, 'vigie.db'), { log: cliLog })
  void new Registry(db, new SqliteMetricStore(db))
  return { apiTokens: new ApiTokens(new SqliteApiTokenStore(db)), enrollTokens: new EnrollTokens(new SqliteEnrollTokenStore(db)), close: () => { db.close() } }
}

async function readStdinLine (): Promise<string> {
  if (process.stdin.isTTY === true) return ''
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    if (text.includes('\n') || text.length > 4096) break
  }
  return text.split(/\r?\n/)[0] ?? ''
}

async function createUser (username: string | undefined, role: Role): Promise<void> {
  if (username === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$/.test(username)) throw new ConfigError('--username: expected 2–64 letters, digits or _.@-')
  if (!['admin', 'technician', 'viewer'].includes(role)) throw new ConfigError(`--role ${role}: expected admin, technician or viewer`)
  const given = await readStdinLine()
  const password = given === '' ? generatePassword() : given
  const problem = passwordProblem(password, username)
  if (problem !== undefined) throw new ConfigError(`password from stdin refused: ${problem}`)
  const cfg = loadCollectorConfig()
  const db = openDb(path.join(cfg.dataDir, 'vigie.db'), { log: cliLog })
  try {
    const user = new UserStore(db).create({ username, role, passwordHash: await hashPassword(password) }, Date.now())
    if (user === undefined) throw new ConfigError(`user ${username} exists already`)
    audit({ auditLog: new SqliteAuditLog(db), now: Date.now }, { actor: 'cli', action: 'user.create', target: user.id, detail: { username, role } })
  } finally {
    db.close()
  }
  // Shown once, to the terminal only: only its scrypt hash is stored.
  process.stdout.write(given === '' ? `created ${role} ${username}; password (shown once): ${password}\n` : `created ${role} ${username}\n`)
}

async function main (): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      role: { type: 'string', default: 'admin' },
      name: { type: 'string' },
      'expires-hours': { type: 'string' },
      'expires-days': { type: 'string' },
      'max-uses': { type: 'string' },
      username: { type: 'string' }
    }
  })
  const command = positionals[0]
  if (command === 'create-token') {
    const role = values.role as Role
    if (!['admin', 'technician', 'viewer'].includes(role)) throw new ConfigError(`--role ${role}: expected admin, technician or viewer`)
    const days = values['expires-days'] === undefined ? loadCollectorConfig().apiTokenDays : Number(values['expires-days'])
    if (!Number.isInteger(days) || days < 1 || days > 3650) throw new ConfigError(`--expires-days ${values['expires-days']}: expected an integer from 1 to 3650`)
    const { apiTokens, close } = tokensOnly()
    const now = Date.now()
    const { token, expiresMs } = await apiTokens.create(role, values.name ?? `${role} (cli)`, now, now + days * 86_400_000)
    close()
    process.stdout.write(token + '\n')
    process.stderr.write(`expires ${new Date(expiresMs!).toISOString()} (${days} days)\n`)
    return
  }
  if (command === 'create-enroll-token') {
    const { enrollTokens, close } = tokensOnly()
    const hours = values['expires-hours'] === undefined ? undefined : Number(values['expires-hours'])
    const uses = values['max-uses'] === undefined ? undefined : Number(values['max-uses'])
    const { token } = await enrollTokens.create({
      name: values.name ?? 'cli',
      ...(hours !== undefined ? { expiresMs: Date.now() + hours * 3_600_000 } : {}),
      ...(uses !== undefined ? { maxUses: uses } : {})
    })
    close()
    process.stdout.write(token + '\n')
    return
  }
  if (command === 'create-user') {
    await createUser(values.username, values.role as Role)
    return
  }
  if (command !== undefined) throw new ConfigError(`unknown command ${command}; expected create-token, create-enroll-token or create-user`)

  const { app, url, adminToken } = await startCollector()
  app.log.info({ url, store: app.metrics.kind, dataDir: app.config.dataDir }, 'collector listening')
  if (adminToken !== undefined) {
    // Printed once, to the terminal only: it is stored hashed and cannot be shown again.
    process.stderr.write(`\nFirst start: admin API token (shown once, keep it):\n  ${adminToken}\n\n`)
  }
  const stop = (signal: string): void => {
    app.log.info({ signal }, 'stopping')
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('collector/main.ts')) {
  main().catch((err: unknown) => {
    const e = err as Error & { code?: string }
    process.stderr.write(`vigie-collector: ${e.code === 'VIGIE_ERR_CONFIG' ? 'configuration error: ' : ''}${e.message}\n`)
    process.exit(e.code === 'VIGIE_ERR_CONFIG' ? 78 : 1)
  })
}
