// The MetricStore contract against InfluxDB 1.x, through the durable outbox.
import t from 'tap'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { MetricOutbox } from '../../../collector/store/sqlite/outbox.js'
import { SeriesRegistry } from '../../../collector/store/sqlite/series-registry.js'
import { InfluxMetricStore } from '../../../collector/store/influx/influx-metric-store.js'
import { startInfluxd } from '../../helpers/influxd.js'
import { runMetricStoreContract } from './contract.js'

const influxd = await startInfluxd(t)
let n = 0

runMetricStoreContract(t, 'influx', async (tt, { rawRetentionDays, maxSeriesPerMachine, maxSeriesTotal, onSeriesLimit, onGlobalSeriesLimit }) => {
  const db = openDb(':memory:')
  tt.teardown(() => { db.close() })
  const store = new InfluxMetricStore({
    url: influxd.url,
    database: `contract_${++n}`,
    outbox: new MetricOutbox(db),
    series: new SeriesRegistry(db, { maxPerMachine: maxSeriesPerMachine, maxTotal: maxSeriesTotal, onMachineLimit: onSeriesLimit, onGlobalLimit: onGlobalSeriesLimit }),
    rawRetentionDays,
    flushIntervalMs: 50,
    batchSize: 5000,
    maxBacklog: 100_000,
    resample: { '5m': { everyMs: 1000, forMs: 10 * 60_000 }, '1h': { everyMs: 1000, forMs: 2 * 3_600_000 } }
  })
  return { store, settle: async () => { await store.flush(20_000) } }
})
