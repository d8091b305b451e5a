/**
 * One registry of probes: each name once, documented, built for every OS, and
 * the only place that chooses a probe's code by platform. Probes return the
 * agent's own samples and never import the wire format.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { PROBE_NAMES, probeFor, probeOs, probesFor } from '../../../agent/probes/registry.js'
import type { ProbeOs } from '../../../agent/probes/probe.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..')
const PROBES_DIR = path.join(ROOT, 'agent', 'probes')

t.test('docs/agent.md documents exactly the registered probes, in report order', async t => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'agent.md'), 'utf8')
  const table = doc.slice(doc.indexOf('| probe |'), doc.indexOf('\n\n', doc.indexOf('| probe |')))
  const documented = table.split('\n').slice(2).map(l => /^\| ([a-z_]+) \|/.exec(l)?.[1]).filter(n => n !== undefined)
  t.same(documented.filter(n => n !== 'tcp_check').sort(), [...PROBE_NAMES].sort(), 'every default probe has a row, and no row names a probe that does not exist')
  t.ok(documented.includes('tcp_check'), 'and the configured TCP check')
  t.equal(new Set(PROBE_NAMES).size, PROBE_NAMES.length, 'each name is registered once')
})

t.test('every probe is built for Linux, macOS and Windows, with the same names and cadences', async t => {
  const oses: ProbeOs[] = ['linux', 'darwin', 'win32']
  const lists = oses.map(os => probesFor({ os }))
  for (const [i, list] of lists.entries()) {
    t.same(list.map(p => p.name), [...PROBE_NAMES], `${oses[i]}: every probe, in report order`)
    t.ok(list.every(p => typeof p.collect === 'function' && p.timeoutMs > 0), `${oses[i]}: each can collect, with a timeout`)
    t.same(list.map(p => p.everySec ?? 0), lists[0].map(p => p.everySec ?? 0), `${oses[i]}: the same cadences as Linux`)
  }
  t.equal(probeOs('darwin'), 'darwin')
  t.equal(probeOs('win32'), 'win32')
  t.equal(probeOs('freebsd'), 'linux', 'other Unix systems run the Linux probes, as the installer treats them')
  t.throws(() => probeFor('smrt'), /no probe named 'smrt'/)
})

t.test('overrides turn probes off or change their cadence; TCP checks exist only when configured', async t => {
  const names = (ps: Array<{ name: string }>): string[] => ps.map(p => p.name)
  t.notOk(names(probesFor({ os: 'linux' })).includes('tcp_check'), 'no active check by default')
  const custom = probesFor({ os: 'linux', schedule: { smart: 7200, processes: false, tcp_check: 300 }, checkTcp: [{ host: '127.0.0.1', port: 9 }], checkTcpTimeoutMs: 500 })
  t.notOk(names(custom).includes('processes'), 'processes=off')
  t.equal(custom.find(p => p.name === 'smart')?.everySec, 7200, 'smart=7200')
  const tcp = custom.at(-1)!
  t.equal(tcp.name, 'tcp_check', 'configured checks come last')
  t.equal(tcp.timeoutMs, 1500, 'bounded by the check timeout plus a second')
  t.equal(tcp.everySec, 300, 'and take a cadence override like any probe')
  t.notOk(names(probesFor({ os: 'linux', schedule: { tcp_check: false }, checkTcp: [{ host: '127.0.0.1', port: 9 }] })).includes('tcp_check'), 'tcp_check=off wins over targets')
})

t.test('no probe file chooses its code by platform or imports the wire format', async t => {
  for (const f of fs.readdirSync(PROBES_DIR).filter(f => f.endsWith('.ts'))) {
    const text = fs.readFileSync(path.join(PROBES_DIR, f), 'utf8')
    t.notMatch(text, /from '[./]*protocol\//, `${f}: no import of protocol/`)
    if (f === 'registry.ts') continue
    t.notMatch(text, /process\.platform|platform\s*[!=]==/, `${f}: no platform branch (the registry picks the file)`)
  }
})
