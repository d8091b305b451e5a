import t from 'tap'
import { loadCollectorConfig, COLLECTOR_OPTIONS, redactUrlPassword } from '../../../collector/core/config.js'
import fs from 'node:fs'
import path from 'node:path'

t.test('defaults bind to loopback with the embedded store', async t => {
  const c = loadCollectorConfig({}, {})
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8480)
  t.equal(c.metricStore, 'sqlite')
  t.ok(path.isAbsolute(c.dataDir))
})

t.test('a bad value fails fast naming the variable, the value and what was expected', async t => {
  t.throws(() => loadCollectorConfig({}, { VIGIE_PORT: 'eighty' }), { message: /VIGIE_PORT="eighty": expected an integer from 0 to 65535/, code: 'VIGIE_ERR_CONFIG' })
  t.throws(() => loadCollectorConfig({}, { VIGIE_LOG_LEVEL: 'loud' }), { message: /VIGIE_LOG_LEVEL="loud": expected one of/ })
  t.throws(() => loadCollectorConfig({}, { VIGIE_INFLUX_URL: 'not a url' }), { message: /VIGIE_INFLUX_URL/ })
})

t.test('a short enrollment token is refused without echoing it', async t => {
  try {
    loadCollectorConfig({}, { VIGIE_ENROLL_TOKEN: 'short-secret' })
    t.fail('should throw')
  } catch (err) {
    t.match((err as Error).message, /VIGIE_ENROLL_TOKEN=\(hidden\): expected at least 16 characters/)
    t.notMatch((err as Error).message, /short-secret/)
  }
})

t.test('setting an InfluxDB URL selects the InfluxDB store', async t => {
  const c = loadCollectorConfig({}, { VIGIE_INFLUX_URL: 'http://127.0.0.1:8086' })
  t.equal(c.metricStore, 'influx')
  t.throws(() => loadCollectorConfig({}, { VIGIE_METRIC_STORE: 'influx' }), { message: /needs VIGIE_INFLUX_URL/ })
})

t.test('the README configuration table lists every collector variable', async t => {
  const readme = fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8')
  for (const o of COLLECTOR_OPTIONS) t.ok(readme.includes(`\`${o.env}\``), `${o.env} documented`)
})

t.test('a bad value never echoes a password embedded in a URL', async t => {
  try {
    loadCollectorConfig({}, { VIGIE_INFLUX_URL: 'http://admin:s3cr3t-pass@', VIGIE_INFLUX_BATCH_SIZE: 'x' })
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, /s3cr3t/)
  }
  t.equal(redactUrlPassword('http://admin:s3cr3t@db.example:8086/x'), 'http://admin:***@db.example:8086/x')
  t.equal(redactUrlPassword('http://db.example:8086'), 'http://db.example:8086')
})

t.test('InfluxDB tuning options are validated and have defaults', async t => {
  const c = loadCollectorConfig({}, { VIGIE_INFLUX_URL: 'http://127.0.0.1:8086', VIGIE_INFLUX_MANAGE_SCHEMA: 'false' })
  t.equal(c.influxManageSchema, false)
  t.equal(c.influxMaxBacklog, 2_000_000)
  t.throws(() => loadCollectorConfig({}, { VIGIE_INFLUX_MANAGE_SCHEMA: 'maybe' }), { message: /VIGIE_INFLUX_MANAGE_SCHEMA="maybe": expected true or false/ })
})
