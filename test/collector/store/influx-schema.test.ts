// Pure parts of the InfluxDB schema: tag encoding, series keys, resolutions, durations.
import t from 'tap'
import {
  DEFAULT_RESAMPLE, ROLLUPS, duration, fromTags, lateAfterMs, literal, parseGoDurationMs, parseSeriesKeyLine,
  pickResolution, seriesQueryStatement, toTags
} from '../../../collector/store/influx/schema.js'
import { redactUrl } from '../../../collector/store/influx/connection.js'

t.test('stores labels named like the reserved tags under an underscore and reads them back', async (t) => {
  const labels = { machine: 'vm-host', unit: 'x', mount: '/', time: 'now', value: 'v' }
  const tags = toTags('m_1', 'percent', labels)
  t.same(tags, { machine: 'm_1', unit: 'percent', _machine: 'vm-host', _unit: 'x', mount: '/', _time: 'now', _value: 'v' })
  t.same(fromTags(tags), { machineId: 'm_1', unit: 'percent', labels })
})

t.test('leaves empty label values out, since InfluxDB has no empty tags', async (t) => {
  t.same(toTags('m_1', 'percent', { mount: '' }), { machine: 'm_1', unit: 'percent' })
  t.same(fromTags({ machine: 'm_1', unit: 'percent', mount: '' }).labels, {})
})

t.test('splits escaped series keys from SHOW SERIES', async (t) => {
  t.same(parseSeriesKeyLine('fs.used_pct,machine=m_1,mount=/media/My\\ Disk\\,\\ "2"\\=x,unit=percent'),
    { measurement: 'fs.used_pct', tags: { machine: 'm_1', mount: '/media/My Disk, "2"=x', unit: 'percent' } })
  t.same(parseSeriesKeyLine('cpu.load_pct'), { measurement: 'cpu.load_pct', tags: {} })
})

t.test('answers from the coarsest rollup whose bucket divides the step', async (t) => {
  const name = (step: number): string => pickResolution(step)?.name ?? 'raw'
  t.same([15_000, 60_000, 299_000, 420_000].map(name), ['raw', 'raw', 'raw', 'raw'], 'under 5 min, or not a multiple of it')
  t.same([300_000, 900_000, 5_400_000].map(name), ['5m', '5m', '5m'], 'multiples of 5 min that are not whole hours')
  t.same([3_600_000, 86_400_000].map(name), ['1h', '1h'], 'whole hours')
})

t.test('repairs buckets that the continuous queries will not revisit', async (t) => {
  const [r5m, r1h] = ROLLUPS
  t.equal(lateAfterMs(r5m, DEFAULT_RESAMPLE['5m']), 4 * 60_000, '5m: samples over 4 minutes late')
  t.equal(lateAfterMs(r1h, DEFAULT_RESAMPLE['1h']), 59 * 60_000, '1h: samples over 59 minutes late')
  t.equal(lateAfterMs(r5m, { everyMs: 5 * 60_000, forMs: 5 * 60_000 }), 0, 'no FOR window: every sample is late')
})

t.test('quotes string literals and prints durations InfluxQL accepts', async (t) => {
  t.equal(literal("it's \\ here"), "'it\\'s \\\\ here'")
  t.same([duration(7 * 86_400_000), duration(3_600_000), duration(300_000), duration(1000), duration(1500)], ['7d', '1h', '5m', '1s', '1500ms'])
  t.same([parseGoDurationMs('168h0m0s'), parseGoDurationMs('0s'), parseGoDurationMs('1h30m')], [604_800_000, 0, 5_400_000])
})

t.test('aligns a rollup query to whole buckets and filters by machine and labels', async (t) => {
  const q = seriesQueryStatement('vigie', { machineId: "m_'1", name: 'fs.used_pct', labels: { mount: '/' }, fromMs: 420_000, toMs: 3_600_000, stepMs: 900_000, aggregate: 'avg' }, ROLLUPS[0])
  t.match(q, /FROM "vigie"\."rollup_5m"\."fs\.used_pct"/)
  t.match(q, /"machine" = 'm_\\'1' AND "mount" = '\/'/)
  t.match(q, /time >= 300000ms AND time < 3600000ms/, 'start aligned down to the 5-minute bucket')
  t.match(q, /sum\("sum"::field\) \/ sum\("count"::field\)/, 'an exact average from sums and counts')
})

t.test('redacts the password of an InfluxDB URL', async (t) => {
  t.equal(redactUrl('http://vigie:s3cr3t@influx:8086/'), 'http://vigie:***@influx:8086/')
  t.equal(redactUrl('http://influx:8086?u=a&p=b'), 'http://influx:8086/?…')
  t.equal(redactUrl('not a url with pw'), '<unparseable URL>')
})
