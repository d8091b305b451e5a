/**
 * The embedded store keeps one row ("frame") per machine and instant. What a user
 * would notice if that went wrong: values merged or lost when two reports share an
 * instant, a series named twice in one report, history written by a collector
 * that kept one row per value.
 */
import t from 'tap'
import path from 'node:path'
import { openDb } from '../../../collector/store/sqlite/db.js'
import { SqliteMetricStore } from '../../../collector/store/sqlite/metrics.js'
import { tempDir } from '../../helpers/temp.js'

const AT = Date.UTC(2026, 10, 27, 10, 0, 0)
const q = (name: string, labels?: Record<string, string>) => ({ machineId: 'm1', name, labels, fromMs: AT - 60_000, toMs: AT + 60_000, stepMs: 1000, aggregate: 'last' as const })

t.test('one frame per report: every value of the report is answered, one row written', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const store = new SqliteMetricStore(db)
  store.appendReport('m1', AT, [
    { name: 'cpu.load_pct', unit: 'percent', value: 12.5 },
    { name: 'fs.used_pct', unit: 'percent', value: 40, labels: { mount: '/' } },
    { name: 'fs.used_pct', unit: 'percent', value: 90, labels: { mount: '/home' } }
  ])
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number }).n, 1, 'one row for the report')
  t.same((await store.query(q('cpu.load_pct')))[0].points, [[AT, 12.5]])
  const fs = await store.query(q('fs.used_pct'))
  t.same(fs.map(s => [s.labels.mount, s.points]), [['/', [[AT, 40]]], ['/home', [[AT, 90]]]], 'each labelled series apart')
  t.same((await store.query(q('fs.used_pct', { mount: '/home' })))[0].points, [[AT, 90]], 'exact label match')
})

t.test('a second report for the same instant adds its new series and keeps the values already stored', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const store = new SqliteMetricStore(db)
  store.appendReport('m1', AT, [{ name: 'cpu.load_pct', unit: 'percent', value: 10 }])
  store.appendReport('m1', AT, [{ name: 'cpu.load_pct', unit: 'percent', value: 99 }, { name: 'mem.used_pct', unit: 'percent', value: 55 }])
  t.same((await store.query(q('cpu.load_pct')))[0].points, [[AT, 10]], 'first value kept, as with a duplicate sample')
  t.same((await store.query(q('mem.used_pct')))[0].points, [[AT, 55]], 'the new series is stored')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number }).n, 1, 'still one row')
})

t.test('a series named twice in one report keeps its first value; the layout changing between reports is followed', async t => {
  const db = openDb(':memory:')
  t.teardown(() => db.close())
  const store = new SqliteMetricStore(db)
  store.appendReport('m1', AT, [{ name: 'cpu.load_pct', unit: 'percent', value: 1 }, { name: 'cpu.load_pct', unit: 'percent', value: 2 }])
  // Same positions, other series: the fast path (same layout as last time) must not reuse ids.
  store.appendReport('m1', AT + 1000, [{ name: 'mem.used_pct', unit: 'percent', value: 3 }, { name: 'cpu.load_pct', unit: 'percent', value: 4 }])
  store.appendReport('m1', AT + 2000, [{ name: 'mem.used_pct', unit: 'percent', value: 5, labels: { a: 'x' } }, { name: 'cpu.load_pct', unit: 'percent', value: 6 }])
  t.same((await store.query(q('cpu.load_pct')))[0].points, [[AT, 1], [AT + 1000, 4], [AT + 2000, 6]])
  const mem = await store.query(q('mem.used_pct'))
  t.same(mem.map(s => [s.labels, s.points]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [[{}, [[AT + 1000, 3]]], [{ a: 'x' }, [[AT + 2000, 5]]]].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), 'a label change is another series')
})

t.test('history written one row per value (before frames) is converted when the collector opens the database', async t => {
  const dir = tempDir(t, 'vigie-frames-')
  const file = path.join(dir, 'vigie.db')
  const old = openDb(file)
  old.prepare("INSERT INTO series (id, machine_id, name, labels_json, unit) VALUES (1, 'm1', 'cpu.load_pct', '{}', 'percent'), (2, 'm1', 'fs.used_pct', '{\"mount\":\"/\"}', 'percent'), (3, 'm2', 'cpu.load_pct', '{}', 'percent')").run()
  const ins = old.prepare('INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)')
  for (let i = 0; i < 10; i++) { ins.run(1, AT + i * 1000, i); ins.run(2, AT + i * 1000, 50 + i); ins.run(3, AT + i * 1000, 100 + i) }
  old.close()

  const db = openDb(file)
  t.teardown(() => db.close())
  const store = new SqliteMetricStore(db)
  t.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'samples'").get(), undefined, 'the old table is gone')
  t.equal((db.prepare('SELECT COUNT(*) AS n FROM frames').get() as { n: number }).n, 20, 'one frame per machine and instant')
  const cpu = (await store.query({ ...q('cpu.load_pct'), toMs: AT + 20_000 }))[0]
  t.same(cpu.points.map(p => p[1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every value of m1 kept')
  const fsUsed = (await store.query({ ...q('fs.used_pct'), toMs: AT + 20_000 }))[0]
  t.same(fsUsed.points.map(p => p[1]), [50, 51, 52, 53, 54, 55, 56, 57, 58, 59])
  const m2 = (await store.query({ ...q('cpu.load_pct'), machineId: 'm2', toMs: AT + 20_000 }))[0]
  t.same(m2.points.map(p => p[1]), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109], 'machines kept apart')
  store.appendReport('m1', AT + 60_000, [{ name: 'cpu.load_pct', unit: 'percent', value: 7 }])
  t.equal((db.prepare("SELECT COUNT(*) AS n FROM series WHERE machine_id = 'm1'").get() as { n: number }).n, 2, 'new reports reuse the converted series')
})
