// Bad InfluxDB settings degrade the store with an error an operator can act on; they never crash it or leak a password.
import { createServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { MetricOutbox } from '../../../collector/store/sqlite/outbox.js'
import { SeriesRegistry } from '../../../collector/store/sqlite/series-registry.js'
import { InfluxMetricStore, type InfluxMetricStoreOptions, type StoreLogger } from '../../../collector/store/influx/influx-metric-store.js'
import { startInfluxd } from '../../helpers/influxd.js'

const influxd = await startInfluxd(t, { auth: true })
const ADMIN = 'admin:Adm1n-pw'
await influxd.adminQuery("CREATE USER admin WITH PASSWORD 'Adm1n-pw' WITH ALL PRIVILEGES")
await influxd.adminQuery('CREATE DATABASE metrics', ADMIN)
await influxd.adminQuery("CREATE USER vigie WITH PASSWORD 'v1gie-pw'", ADMIN)
await influxd.adminQuery('GRANT ALL ON metrics TO vigie', ADMIN)

function collectLogs (): { logger: StoreLogger, text: () => string } {
  const lines: unknown[] = []
  const log = (obj: object, msg: string): void => { lines.push({ ...obj, msg }) }
  return { logger: { debug: log, info: log, warn: log, error: log }, text: () => JSON.stringify(lines) }
}

function makeStore (t: Test, options: Partial<InfluxMetricStoreOptions> & { url: string }): InfluxMetricStore {
  const db = openDb(':memory:')
  const store = new InfluxMetricStore({
    database: 'metrics',
    outbox: new MetricOutbox(db),
    series: new SeriesRegistry(db),
    rawRetentionDays: 7,
    flushIntervalMs: 50,
    batchSize: 500,
    maxBacklog: 10_000,
    requestTimeoutMs: 2000,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    ...options
  })
  t.teardown(async () => { await store.close(); db.close() })
  return store
}

async function closedPort (): Promise<number> {
  return await new Promise((resolve) => {
    const srv = createTcpServer()
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => resolve(typeof addr === 'object' && addr !== null ? addr.port : 1))
    })
  })
}

const sample = { machineId: 'm_3f2a', name: 'cpu.load_pct', labels: {}, unit: 'percent' as const, atMs: Date.now(), value: 12.5 }
const withAuth = (auth: string): string => influxd.url.replace('http://', `http://${auth}@`)

t.test('reports an unreachable URL as not ready with a clear error, and still accepts samples', async (t) => {
  const port = await closedPort()
  const store = makeStore(t, { url: `http://127.0.0.1:${port}` })
  await store.start()
  const s = store.status()
  t.equal(s.ready, false, 'not ready')
  t.equal(s.lastError, `listing databases at http://127.0.0.1:${port}/: cannot reach InfluxDB (connect ECONNREFUSED 127.0.0.1:${port})`)
  store.append([sample])
  t.equal(store.status().backlog, 1, 'the sample waits in the outbox')
})

t.test('never writes the password of the URL into errors or logs', async (t) => {
  const port = await closedPort()
  const logs = collectLogs()
  const store = makeStore(t, { url: `http://vigie:s3cr3t-pw@127.0.0.1:${port}`, logger: logs.logger })
  await store.start()
  t.match(store.status().lastError ?? '', `http://vigie:***@127.0.0.1:${port}/`, 'the error shows the redacted URL')
  t.notMatch(store.status().lastError ?? '', 's3cr3t-pw', 'not the password')
  t.match(logs.text(), 'vigie:***@', 'logs show the redacted URL')
  t.notMatch(logs.text(), 's3cr3t-pw', 'logs never show the password')
  t.throws(() => makeStore(t, { url: 'http//vigie:s3cr3t-pw@influx:8086' }), {
    code: 'VIGIE_ERR_METRIC_STORE_CONFIG',
    message: /^InfluxDB url <unparseable URL> is not a URL/
  }, 'a malformed URL fails at construction, without echoing it')
})

t.test('rejects unusable options at construction with a coded error', async (t) => {
  t.throws(() => makeStore(t, { url: influxd.url, batchSize: 0 }), { code: 'VIGIE_ERR_METRIC_STORE_CONFIG', message: /batchSize = 0/ })
  t.throws(() => makeStore(t, { url: 'ftp://influx:8086' }), { code: 'VIGIE_ERR_METRIC_STORE_CONFIG', message: /must start with http/ })
  t.throws(() => makeStore(t, { url: influxd.url, database: '' }), { code: 'VIGIE_ERR_METRIC_STORE_CONFIG', message: /database name/ })
})

t.test('recognises a server that is not InfluxDB', async (t) => {
  const srv = createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>') })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { srv.close() })
  const addr = srv.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  const store = makeStore(t, { url: `http://127.0.0.1:${port}` })
  await store.start()
  t.equal(store.status().ready, false)
  t.match(store.status().lastError ?? '', /did not answer like InfluxDB 1\.x \(HTTP 404: <h1>Not Found<\/h1>\); check the URL/)
})

t.test('names wrong credentials', async (t) => {
  const store = makeStore(t, { url: withAuth('vigie:wrong') })
  await store.start()
  t.equal(store.status().ready, false)
  t.match(store.status().lastError ?? '', /InfluxDB rejected the credentials of user "vigie" \(HTTP 401\)/)
})

t.test('names a database the user may not create', async (t) => {
  const store = makeStore(t, { url: withAuth('vigie:v1gie-pw'), database: 'metricz' })
  await store.start()
  t.equal(store.status().ready, false)
  t.match(store.status().lastError ?? '', /creating database "metricz" at http:\/\/vigie:\*\*\*@127\.0\.0\.1:\d+\/: user "vigie" lacks the privilege/)
})

t.test('works with a non-admin user once an admin created the schema, and heals when it appears', async (t) => {
  const store = makeStore(t, { url: withAuth('vigie:v1gie-pw'), manageSchema: false })
  await store.start()
  t.equal(store.status().ready, false, 'not ready without the raw retention policy')
  t.match(store.status().lastError ?? '', /retention policy not found: "raw"/)
  store.append([sample])
  await influxd.adminQuery('CREATE RETENTION POLICY raw ON metrics DURATION 7d REPLICATION 1 DEFAULT', ADMIN)
  await store.flush(10_000)
  t.equal(store.status().ready, true, 'ready once the policy exists')
  const res = await store.query({ machineId: sample.machineId, name: sample.name, fromMs: sample.atMs, toMs: sample.atMs + 1, stepMs: 1000 })
  t.equal(res[0]?.points.length, 1, 'the sample accepted meanwhile arrived')
})

t.test('manages the schema with an admin user', async (t) => {
  const store = makeStore(t, { url: withAuth(ADMIN), database: 'fresh' })
  await store.start()
  t.same(store.status(), { ready: true, backlog: 0, accepting: true })
})
