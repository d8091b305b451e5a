/**
 * What the agent puts on the wire. Its protocol values equal the protocol's,
 * and a real agent (createAgent, in this process) running real probes on the
 * recorded laptop tree, with a fixed clock, sends a fake collector on loopback
 * exactly the recorded bytes (test/fixtures/agent/golden/requests.ndjson):
 * enrollment, then three reports. Three values come from the real machine and
 * are masked before the comparison: the send time (`agentClock`, stamped by the
 * transport from the wall clock), the agent's own RSS and CPU, and the
 * enrollment's hardware facts (network adapters, firmware).
 */
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import * as protocol from '../../protocol/index.js'
import * as wire from '../../agent/wire.js'
import { createAgent } from '../../agent/agent.js'
import { loadAgentConfig } from '../../agent/config.js'
import { probeFor } from '../../agent/probes/registry.js'
import type { CommandResult } from '../../agent/probes/run-command.js'
import { memoryLogger, testDrivesCollections } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

const FIX = path.resolve(import.meta.dirname, '..', 'fixtures', 'agent')
const LAPTOP = path.join(FIX, 'linux-laptop')
const GOLDEN = path.join(FIX, 'golden', 'requests.ndjson')

t.test('the agent\'s protocol values equal the protocol\'s', async t => {
  t.equal(wire.PROTOCOL_VERSION, protocol.PROTOCOL_VERSION)
  t.equal(wire.TOKEN_ROTATE_HEADER, protocol.TOKEN_ROTATE_HEADER)
  for (const [k, v] of Object.entries(wire.LIMITS)) t.equal(v, protocol.LIMITS[k as keyof typeof protocol.LIMITS], k)
})

t.test('the agent reads the stream\'s close codes as the collector sends them', async t => {
  for (const [k, v] of Object.entries(wire.STREAM_CLOSE)) t.equal(v, protocol.STREAM_CLOSE[k as keyof typeof protocol.STREAM_CLOSE], k)
})

/** Replays recorded command outputs by command line prefix. */
function replay (table: Record<string, string | CommandResult>): (file: string, args: readonly string[]) => Promise<CommandResult> {
  return async (file, args) => {
    const key = [file, ...args].join(' ')
    const hit = Object.entries(table).find(([k]) => key.startsWith(k))?.[1]
    if (hit === undefined) return { code: 127, stdout: '', stderr: `${file}: not recorded` }
    return typeof hit === 'string' ? { code: 0, stdout: hit, stderr: '' } : hit
  }
}

/** The values a real machine decides, masked so the rest compares byte for byte. */
export function mask (line: string): string {
  return line
    .replace(/"agentClock":"[^"]*"/g, '"agentClock":"<send time>"')
    .replace(/("name":"agent\.(?:rss_bytes|cpu_pct)","unit":"(?:bytes|percent)","value":)[0-9.e+-]+/g, '$1<own cost>')
    .replace(/"hardware":\{[^}]*\}/, '"hardware":"<this machine>"')
}

t.test('a real agent on the recorded laptop sends the recorded bytes: enrollment, then three reports', async t => {
  const dir = tempDir(t, 'vigie-golden-')
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      requests.push(`${req.method ?? ''} ${req.url ?? ''} ${body}`)
      res.writeHead(200, { 'content-type': 'application/json' })
      if (req.url === '/api/v1/enroll') {
        res.end(JSON.stringify({ agentId: 'm_golden', agentToken: 'vga_golden', protocolVersion: 1, reportIntervalSec: 30, serverTime: '2026-03-02T09:00:00.000Z', lastSeq: 0 }))
        return
      }
      const seqs = (JSON.parse(body) as { reports: Array<{ seq: number }> }).reports.map(r => r.seq)
      res.end(JSON.stringify({ stored: seqs, duplicates: [], serverTime: '2026-03-02T09:00:00.000Z' }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const keyFile = path.join(dir, 'machine-id')
  fs.writeFileSync(keyFile, '0f1e2d3c4b5a69788796a5b4c3d2e1f0\n')

  const dpkg = fs.readFileSync(path.join(FIX, 'inventory', 'dpkg-query.txt'), 'utf8')
  const smart = (f: string): string => fs.readFileSync(path.join(FIX, 'smart', f), 'utf8')
  const run = replay({
    'dpkg-query -W': dpkg,
    'smartctl --scan --json': smart('scan-three-disks.json'),
    'smartctl --json -a -n standby -d sat /dev/sda': smart('sata-ssd-samsung-860.json'),
    'smartctl --json -a -n standby -d sat /dev/sdb': { code: 24, stdout: smart('hdd-failing-wd.json'), stderr: '' },
    'smartctl --json -a -n standby -d nvme /dev/nvme0': smart('nvme-samsung-pm9a1.json')
  })
  const env = { root: LAPTOP, run }
  const host = {
    name: 'host',
    timeoutMs: 1000,
    everySec: 3600,
    collect: async () => ({
      metrics: [],
      host: { hostname: 'thinkpad', os: 'Ubuntu', osVersion: '22.04', kernel: '6.5.0-14-generic', arch: 'x64', manufacturer: 'LENOVO', model: '20XW0026GE ThinkPad X1 Carbon Gen 9', serial: 'PF2ABCDE', cpuModel: 'Intel(R) Core(TM) i7-1165G7', cpuCores: 4 },
      unavailable: []
    })
  }
  const broken = { name: 'broken', timeoutMs: 1000, collect: async (): Promise<never> => { throw new Error('sensor bus gone') } }
  const probes = [host, ...['cpu', 'memory', 'disk_io', 'smart', 'temperatures', 'battery', 'network', 'gateway', 'inventory'].map(name => probeFor(name, 'linux', env)), broken]

  let clock = Date.parse('2026-03-02T09:00:00.000Z')
  const config = loadAgentConfig({ collectorUrl: url, enrollToken: 'golden-enroll-token-0001', stateDir: path.join(dir, 'state'), transport: 'http', intervalSec: 3600, hostname: 'pc-042', group: 'site-lyon', machineKeyFile: keyFile } as never, { env: {} })
  const { log } = memoryLogger()
  const agent = createAgent(config, { log, probes, now: () => clock, schedule: testDrivesCollections })
  t.teardown(() => agent.stop())
  await agent.start()
  clock += 30_000
  await agent.collectOnce()
  await agent.flush()
  clock += 60_000
  await agent.collectOnce()
  await agent.flush()
  await agent.stop()

  const actual = requests.map(mask).join('\n') + '\n'
  const expected = fs.existsSync(GOLDEN) ? fs.readFileSync(GOLDEN, 'utf8') : ''
  if (actual !== expected) {
    const out = path.join(os.tmpdir(), 'vigie-golden-actual.ndjson')
    fs.writeFileSync(out, actual)
    t.comment(`actual exchange written to ${out}`)
  }
  t.equal(requests.length, 4, 'one enrollment and three reports, each acknowledged at once')
  t.equal(actual, expected, 'byte for byte the recorded exchange (real-machine values masked)')
})
