/**
 * The test safety net against DNS (test/setup/no-dns.ts, loaded into every test
 * process by the tap configuration): a lookup of a name off this machine fails
 * loudly before the resolver runs, so no test can send a DNS packet anywhere,
 * even by accident and even if it swallows the error.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import dgram from 'node:dgram'
import dns, { lookup as namedLookup } from 'node:dns'
import net from 'node:net'
import path from 'node:path'
import type { AddressInfo } from 'node:net'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const net0 = (globalThis as Record<symbol, unknown>)[Symbol.for('vigie.test.dnsSafetyNet')] as
  { refused: string[], original: { resolverMethods: Record<string, (...args: unknown[]) => unknown> } } | undefined

/** The query name of a DNS message (RFC 1035 §4.1.2), from its 12-byte header on. */
function qname (msg: Buffer): string {
  const labels: string[] = []
  for (let i = 12; i < msg.length && msg[i] !== 0; i += msg[i] + 1) labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('latin1'))
  return labels.join('.')
}

t.test('the safety net is loaded in every test process by the tap configuration, not by this file', async t => {
  t.ok(net0 !== undefined, 'installed before this file ran (package.json "tap" → "node-arg")')
})

t.test('a lookup of a name off this machine throws before the resolver runs; localhost and IP literals still work', async t => {
  const refusedBefore = net0!.refused.length
  let called = false
  t.throws(() => { dns.lookup('refused.example', () => { called = true }) }, { code: 'VIGIE_TEST_DNS_REFUSED', hostname: 'refused.example' }, 'dns.lookup throws at once')
  t.throws(() => { namedLookup('refused.example', () => { called = true }) }, { code: 'VIGIE_TEST_DNS_REFUSED' }, 'so does a named import of lookup')
  await t.rejects(dns.promises.lookup('refused.example'), { code: 'VIGIE_TEST_DNS_REFUSED' }, 'dns.promises.lookup rejects')
  // net.connect, http.request and fetch resolve through dns.lookup: refused before any socket connects
  t.throws(() => net.connect({ host: 'refused.example', port: 80 }), { code: 'VIGIE_TEST_DNS_REFUSED' }, 'net.connect to a name throws before connecting')
  await t.rejects(fetch('http://refused.example/'), { cause: { code: 'VIGIE_TEST_DNS_REFUSED' } }, 'fetch to a name fails, the refusal as its cause')
  t.notOk(called, 'no callback: the resolver never ran')
  t.same((await dns.promises.lookup('localhost', { all: true })).length > 0, true, 'localhost resolves (from the hosts file)')
  t.same(await dns.promises.lookup('127.0.0.1'), { address: '127.0.0.1', family: 4 }, 'an IP literal needs no resolver')
  t.equal(net0!.refused.length - refusedBefore, 5, 'each refusal is recorded for the exit check')
  // These refusals were the point of this test: do not fail the process for them.
  net0!.refused.length = refusedBefore
})

t.test('a DNS query never leaves the process: the name server (here one on 127.0.0.1) gets nothing', async t => {
  const server = dgram.createSocket('udp4')
  const received: string[] = []
  let onPacket: (() => void) | undefined
  server.on('message', (msg) => { received.push(qname(msg)); onPacket?.() })
  await new Promise<void>((resolve) => { server.bind(0, '127.0.0.1', resolve) })
  t.teardown(() => { server.close() })
  const ns = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const refusedBefore = net0!.refused.length

  const patched = new dns.promises.Resolver({ timeout: 200, tries: 1 })
  patched.setServers([ns])
  await t.rejects(patched.resolve4('refused.example'), { code: 'VIGIE_TEST_DNS_REFUSED' }, 'promises.Resolver.resolve4 refused')
  t.throws(() => { dns.resolve4('refused.example', () => {}) }, { code: 'VIGIE_TEST_DNS_REFUSED' }, 'dns.resolve4 refused')
  await t.rejects(dns.promises.resolveTxt('localhost'), { code: 'VIGIE_TEST_DNS_REFUSED' }, 'a query for localhost too: it would go to the name server')

  // Control: Node's own resolver, pointed at the same local server, does send a packet;
  // once it arrives, the server has seen exactly that one and nothing refused before it.
  const arrived = new Promise<void>((resolve) => { onPacket = resolve })
  const control = new dns.Resolver({ timeout: 200, tries: 1 })
  control.setServers([ns])
  net0!.original.resolverMethods.resolve4.call(control, 'control.example', () => {})
  await arrived
  control.cancel()
  t.same(received, ['control.example'], 'the only packet the name server got is the control query')
  net0!.refused.length = refusedBefore
})

t.test('a refused lookup whose error the code swallows still fails the test process (exit 1, naming it)', async t => {
  const code = 'import dns from "node:dns"; try { dns.lookup("swallowed.example", () => {}) } catch {} console.log("done")'
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/setup/no-dns.ts', '--input-type=module', '-e', code], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exit = await new Promise<number | null>((resolve) => { child.once('exit', resolve) })
  t.match(out, /done/, 'the code ran to its end')
  t.equal(exit, 1, 'the process failed')
  t.match(err, /1 DNS lookup\(s\) refused in this test process: dns\.lookup\("swallowed\.example"\)/, 'and says what was looked up')
})
