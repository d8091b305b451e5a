/**
 * The agent opens no connection but the one to its collector unless told to.
 * A real agent process (every default probe, as `npm start` runs it) is traced
 * with strace over several collection cycles: every address it (or any child it
 * spawns) connects or sends to must be loopback, a local socket or netlink.
 * Active TCP checks exist only when configured, bounded in number and time.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import t from 'tap'
import { api, ENROLL_TOKEN, inProcessCollector, ROOT, waitFor } from './helpers/collector.js'
import { loadAgentConfig } from '../../agent/config.js'
import { MAX_TCP_CHECKS, parseTcpTargets, tcpCheckProbe } from '../../agent/probes/tcp-check.js'
import { tempDir } from '../helpers/temp.js'

/** Every destination in an strace log of connect/sendto/sendmsg/sendmmsg calls that is not loopback, local or netlink. */
function foreignDestinations (trace: string): string[] {
  const bad: string[] = []
  for (const line of trace.split('\n')) {
    if (!/\b(connect|sendto|sendmsg|sendmmsg)\(/.test(line)) continue
    for (const m of line.matchAll(/sa_family=(AF_[A-Z0-9]+)([^}]*)/g)) {
      const [, family, rest] = m
      if (family === 'AF_UNIX' || family === 'AF_NETLINK' || family === 'AF_UNSPEC') continue
      const v4 = /inet_addr\("([^"]+)"\)/.exec(rest)?.[1]
      const v6 = /inet_pton\(AF_INET6, "([^"]+)"/.exec(rest)?.[1]
      if (family === 'AF_INET' && v4 !== undefined && v4.startsWith('127.')) continue
      if (family === 'AF_INET6' && v6 !== undefined && (v6 === '::1' || /^::ffff:127\./.test(v6))) continue
      bad.push(line.trim())
    }
  }
  return bad
}

t.test('a real agent run sends nothing beyond loopback over several collection cycles', async t => {
  const dir = tempDir(t, 'vigie-outbound-')
  const collector = await inProcessCollector(path.join(dir, 'collector'))
  t.teardown(collector.close)
  const traceFile = path.join(dir, 'trace.txt')
  const stateDir = path.join(dir, 'agent')
  // The same command line as the quick start's local agent (scripts/quickstart.ts), every default probe on.
  const child = spawn('strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', traceFile,
    process.execPath, '--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'run', '--collector', collector.url,
    '--state-dir', stateDir, '--interval', '1', '--log-level', 'warn'],
  { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, VIGIE_ENROLL_TOKEN: ENROLL_TOKEN }, stdio: ['ignore', 'ignore', 'pipe'], detached: true })
  let log = ''
  child.stderr.on('data', (d: Buffer) => { log += d.toString() })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => { if (child.exitCode === null && child.signalCode === null) { process.kill(-child.pid!, 'SIGKILL'); await exited } })

  const id = await waitFor('enrollment', () => { try { return (JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as { agentId: string }).agentId } catch { return child.exitCode !== null ? Promise.reject(new Error(log)) : undefined } }, 60_000)
  await waitFor('4 reports stored', async () => (await api<{ lastSeq: number }>(collector.url, collector.adminToken!, `/api/v1/machines/${id}`).catch(() => ({ lastSeq: 0 }))).lastSeq >= 4, 60_000)
  process.kill(-child.pid!, 'SIGTERM')
  await exited

  const trace = fs.readFileSync(traceFile, 'utf8')
  const port = new URL(collector.url).port
  t.match(trace, new RegExp(`connect\\(\\d+, \\{sa_family=AF_INET, sin_port=htons\\(${port}\\), sin_addr=inet_addr\\("127\\.0\\.0\\.1"\\)`), 'the trace saw the agent reach its collector')
  t.same(foreignDestinations(trace), [], 'no connect or send to any address outside loopback, by the agent or a child process')
})

t.test('the trace parser flags what it must', async t => {
  t.same(foreignDestinations('12 connect(21, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("192.0.2.1")}, 16) = -1 EINPROGRESS').length, 1)
  t.same(foreignDestinations('12 sendto(5, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 1').length, 1)
  t.same(foreignDestinations('12 sendmsg(5, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12}, 0) = 20'), [])
  t.same(foreignDestinations('12 connect(21, {sa_family=AF_INET6, sin6_port=htons(8480), inet_pton(AF_INET6, "::1", &sin6_addr)}, 28) = 0'), [])
})

t.test('active TCP checks run only when configured, bounded in number and time', async t => {
  const base = { stateDir: '/tmp/x' }
  t.same(loadAgentConfig(base, { env: {} }).checkTcp, [], 'none by default')
  t.equal(loadAgentConfig(base, { env: {} }).checkTcpTimeoutMs, 2000)
  const at = Array.from({ length: MAX_TCP_CHECKS }, (_, i) => `127.0.0.1:${1000 + i}`).join(',')
  t.equal(loadAgentConfig({ ...base, checkTcp: at as never }, { env: {} }).checkTcp.length, MAX_TCP_CHECKS, `${MAX_TCP_CHECKS} targets: accepted`)
  t.throws(() => loadAgentConfig({ ...base, checkTcp: `${at},127.0.0.1:2000` as never }, { env: {} }), { code: 'VIGIE_ERR_CONFIG', message: /--checkTcp.*at most 16 targets \(got 17\)/ })
  t.throws(() => loadAgentConfig(base, { env: { VIGIE_AGENT_CHECK_TCP: 'example.org' } }), { message: /VIGIE_AGENT_CHECK_TCP.*expected host:port/ })
  t.throws(() => loadAgentConfig(base, { env: { VIGIE_AGENT_CHECK_TCP: 'h:65536' } }), { message: /port 1 to 65535/ })
  t.same(parseTcpTargets('[::1]:80, gw.example:443'), [{ host: '::1', port: 80 }, { host: 'gw.example', port: 443 }])
  t.equal(loadAgentConfig(base, { env: { VIGIE_AGENT_CHECK_TCP_TIMEOUT_MS: '10000' } }).checkTcpTimeoutMs, 10000)
  t.throws(() => loadAgentConfig(base, { env: { VIGIE_AGENT_CHECK_TCP_TIMEOUT_MS: '10001' } }), { message: /from 100 to 10000/ })

  const server = net.createServer(s => { s.destroy() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const open = (server.address() as net.AddressInfo).port
  const closed = await new Promise<number>(resolve => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => { resolve(p) }) }) })
  const r = await tcpCheckProbe(parseTcpTargets(`127.0.0.1:${open},127.0.0.1:${closed}`), 500).collect()
  const ok = (target: string): number | undefined => r.metrics.find(m => m.name === 'net.tcp_check_ok' && m.labels?.target === target)?.value
  t.equal(ok(`127.0.0.1:${open}`), 1, 'a listening port answers')
  t.equal(ok(`127.0.0.1:${closed}`), 0, 'a closed port does not')
  t.ok(r.metrics.some(m => m.name === 'net.tcp_check_ms' && m.labels?.target === `127.0.0.1:${open}`), 'connect time reported for the open one')
})
