import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { Compile } from 'typebox/compile'
import type { TSchema } from 'typebox'
import {
  BatchAck, EnrollRequest, EnrollResponse, ErrorBody, Report, ReportBatch, StreamAck, StreamReports,
  seriesKey, parseSeriesKey, sameLabels
} from '../../protocol/index.js'
import { loadFixture } from '../helpers/reports.js'

const golden: Array<[string, TSchema]> = [
  ['report.json', Report],
  ['batch.json', ReportBatch],
  ['stream-reports.json', StreamReports],
  ['ack.json', BatchAck],
  ['stream-ack.json', StreamAck],
  ['enroll-request.json', EnrollRequest],
  ['enroll-response.json', EnrollResponse],
  ['error.json', ErrorBody]
]

t.test('every golden message matches its v1 schema', async t => {
  for (const [file, schema] of golden) {
    const c = Compile(schema)
    const msg = loadFixture(file)
    t.ok(c.Check(msg), `${file} is valid: ${JSON.stringify(c.Errors(msg)[0] ?? null)}`)
  }
})

t.test('each invalid report is refused at the field the fixture names', async t => {
  const dir = path.resolve(import.meta.dirname, '..', 'fixtures', 'protocol', 'invalid')
  const c = Compile(ReportBatch)
  const files = fs.readdirSync(dir)
  t.ok(files.length >= 5, 'there are invalid fixtures')
  for (const f of files) {
    const { expectPath, body } = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { expectPath: string, body: unknown }
    t.notOk(c.Check(body), `${f} is invalid`)
    const paths = c.Errors(body).map(e => {
      const p = e.params as { requiredProperties?: string[] }
      return p.requiredProperties !== undefined ? `${e.instancePath}/${p.requiredProperties[0]}` : e.instancePath
    })
    t.ok(paths.some(p => p === expectPath || p.startsWith(expectPath)), `${f} fails at ${expectPath} (got ${paths.join(', ')})`)
  }
})

t.test('a report may carry fields a newer agent adds (compatibility rule)', async t => {
  const r = { ...loadFixture<Record<string, unknown>>('report.json'), futureField: { anything: true } }
  t.ok(Compile(Report).Check(r))
})

t.test('series keys are canonical and round-trip', async t => {
  t.equal(seriesKey('cpu.load_pct'), 'cpu.load_pct')
  t.equal(seriesKey('fs.used_pct', { mount: '/' }), 'fs.used_pct{mount="/"}')
  t.equal(seriesKey('x', { b: '2', a: '1' }), seriesKey('x', { a: '1', b: '2' }), 'label order does not matter')
  const tricky = { mount: 'C:\\Users "shared", x', iface: 'wlp0s20f3' }
  t.same(parseSeriesKey(seriesKey('fs.used_pct', tricky)), { name: 'fs.used_pct', labels: tricky })
  t.equal(parseSeriesKey('fs.used_pct{mount=/}'), undefined, 'unquoted value is malformed')
  t.equal(parseSeriesKey('Bad Name'), undefined)
})

t.test('a metric label outside the key pattern is refused (labels are series identity)', async t => {
  const c = Compile(Report)
  const r = loadFixture<Record<string, any>>('report.json')
  r.metrics = [{ name: 'fs.used_pct', unit: 'percent', value: 1, labels: { 'Mount Point': '/' } }]
  t.notOk(c.Check(r))
  r.metrics = [{ name: 'fs.used_pct', unit: 'percent', value: 1, labels: { mount: { nested: true } } }]
  t.notOk(c.Check(r))
  r.metrics = [{ name: 'fs.used_pct', unit: 'percent', value: 1, labels: { mount: '/' } }]
  t.ok(c.Check(r))
})

t.test('label sets compare by content; absent labels and {} are the same set', async t => {
  t.ok(sameLabels(undefined, undefined))
  t.ok(sameLabels(undefined, {}))
  t.ok(sameLabels({ mount: '/', dev: 'sda' }, { dev: 'sda', mount: '/' }), 'key order does not matter')
  t.notOk(sameLabels({ mount: '/' }, { mount: '/home' }))
  t.notOk(sameLabels({ mount: '/' }, { mount: '/', dev: 'sda' }), 'an extra label is another set')
  t.notOk(sameLabels({ mount: '/', dev: 'sda' }, { mount: '/' }))
  t.notOk(sameLabels(undefined, { mount: '/' }))
})
