/**
 * Agent-side bounds (issue 14): a collector answer is read up to
 * MAX_RESPONSE_BYTES and no further (a hostile collector streamed a body that
 * took the agent to 1.3 GiB); on a full disk the spool is written before the
 * state, drops are counted and reported, and no temp file is left; state-file
 * errors name the file.
 */
import t from 'tap'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { MAX_RESPONSE_BYTES, Transport } from '../../agent/transport.js'
import { createAgent } from '../../agent/agent.js'
import { loadAgentConfig } from '../../agent/config.js'
import { readState, statePath, writeState } from '../../agent/state.js'
import { memoryLogger, testDrivesCollections } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'


/** A fake collector on loopback answering every request with `body` (a Buffer, or a generator of chunks). */
async function fakeCollector (t: { teardown: (f: () => Promise<void> | void) => void }, answer: (res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { answer(res) }) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => { resolve() }) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const enrollBody = { enrollToken: 'x'.repeat(16), hostname: 'pc', agentVersion: '1' }

t.test('a collector answer of exactly the bound is read; one byte more is refused', async t => {
  const json = (size: number): Buffer => {
    const head = '{"agentId":"m_x","agentToken":"vga_x","protocolVersion":1,"reportIntervalSec":30,"serverTime":"2026-01-01T00:00:00Z","pad":"'
    return Buffer.from(head + 'a'.repeat(size - head.length - 2) + '"}')
  }
  for (const [size, ok] of [[MAX_RESPONSE_BYTES, true], [MAX_RESPONSE_BYTES + 1, false]] as const) {
    const body = json(size)
    t.equal(body.length, size)
    const url = await fakeCollector(t, res => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(body) })
    const p = new Transport({ url, mode: 'http' }).enroll(enrollBody)
    if (ok) t.equal((await p).agentId, 'm_x', `${size} bytes: read`)
    else await t.rejects(p, { name: 'SendError', kind: 'network', message: /over 1048576 bytes; not read/ }, `${size} bytes: refused`)
  }
})

t.test('a hostile collector streaming an endless body: the read stops at the bound, memory stays flat', async t => {
  let written = 0
  let closed = false
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  const url = await fakeCollector(t, res => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"pad":"')
    const pump = (): void => {
      // 512 MiB offered; the agent must stop long before.
      while (!closed && written < 512 * 1024 * 1024) {
        written += chunk.length
        if (!res.write(chunk)) { res.once('drain', pump); return }
      }
    }
    res.on('close', () => { closed = true })
    pump()
  })
  const rssBefore = process.memoryUsage.rss()
  await t.rejects(new Transport({ url, mode: 'http' }).enroll(enrollBody), { kind: 'network', message: /over 1048576 bytes/ })
  const grew = process.memoryUsage.rss() - rssBefore
  t.ok(grew < 64 * 1024 * 1024, `RSS grew ${Math.round(grew / 1048576)} MiB (bound 64 MiB)`)
  // The socket is closed: the server could push only what the socket buffers held.
  const { waitFor } = await import('../helpers/wait.js')
  await waitFor(() => closed, { what: 'the agent to close the connection' })
  t.ok(written < 32 * 1024 * 1024, `the collector could send only ${Math.round(written / 1048576)} MiB of 512 before the agent hung up`)
})

t.test('full disk: the spool is written first, drops are counted and reported, no .tmp is left', async t => {
  const dir = tempDir(t, 'vigie-bounds-')
  // Enrolled already; the collector is unreachable (a closed loopback port), so reports pile up in the spool.
  writeState(dir, { collectorUrl: 'http://127.0.0.1:9', agentId: 'm_disk', agentToken: 'vga_disk', nextSeq: 1, droppedReports: 0 })
  const config = loadAgentConfig({ collectorUrl: 'http://127.0.0.1:9', stateDir: dir, transport: 'http', intervalSec: 3600 } as never, { env: {} })
  const { log, lines } = memoryLogger()
  const probe = { name: 'fill', timeoutMs: 1000, collect: async () => ({ metrics: [{ name: 'pad.value', unit: 'count' as const, value: 1, labels: { pad: 'x'.repeat(200) } }] }) }
  const agent = createAgent(config, { log, probes: [probe], schedule: testDrivesCollections })

  // An injected full disk: writes under the state folder fail with ENOSPC past a budget of bytes on disk.
  let budget = 6000
  const paths = new Map<number, string>()
  const open = fs.openSync
  const write = fs.writeSync
  const used = (): number => {
    let n = 0
    for (const d of [dir, path.join(dir, 'spool')]) for (const f of fs.readdirSync(d)) { const st = fs.statSync(path.join(d, f)); if (st.isFile()) n += st.size }
    return n
  }
  let full = false
  fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => { const fd = (open as (...a: unknown[]) => number)(p, ...rest); paths.set(fd, String(p)); return fd }) as typeof fs.openSync
  fs.writeSync = ((fd: number, buf: unknown, ...rest: unknown[]) => {
    const len = typeof buf === 'string' ? Buffer.byteLength(buf) : (buf as Buffer).length
    if (full && (paths.get(fd) ?? '').startsWith(dir) && used() + len > budget) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
    return (write as (...a: unknown[]) => number)(fd, buf, ...rest)
  }) as typeof fs.writeSync
  t.teardown(() => { fs.openSync = open; fs.writeSync = write })

  await agent.start()
  t.teardown(() => agent.stop())
  full = true
  const made: number[] = []
  for (let i = 0; i < 20; i++) made.push((await agent.collectOnce()).seq)
  const spooled = fs.readdirSync(path.join(dir, 'spool'))
  t.notOk(spooled.some(f => f.endsWith('.tmp')) || fs.readdirSync(dir).some(f => f.endsWith('.tmp')), 'no temp file left behind')
  const newest = String(made.at(-1)).padStart(16, '0') + '.json'
  t.ok(spooled.includes(newest), 'the newest report is in the spool: the spool made room by dropping the oldest')
  const last = await agent.collectOnce()
  t.ok((last.droppedReports ?? 0) > 0, `the next report tells the collector ${last.droppedReports ?? 0} reports were dropped`)
  const kept = fs.readdirSync(path.join(dir, 'spool')).filter(f => f.endsWith('.json')).length
  const dropped = lines.filter(l => l.msg === 'spool dropped reports').reduce((n, l) => n + (l.count as number), 0)
  t.equal(kept + dropped, made.length + 2, `every report made is in the spool (${kept}) or counted as dropped (${dropped}); the first start made one`)
  t.ok((last.droppedReports ?? 0) >= dropped - 1, 'the count sent is the count dropped (but for the last one, sent next time)')
  t.ok(lines.some(l => l.msg === 'spool dropped reports' && l.reason === 'disk-full'), 'the drops are logged')

  // The disk full to the last byte: the new report still reaches the spool (its oldest
  // dropped to make room, counted), and no temp file is left. (With the state written
  // first, the collection failed on ENOSPC: the report was lost, uncounted, and the
  // state's temp file stayed.)
  budget = used()
  let tight: Awaited<ReturnType<typeof agent.collectOnce>> | undefined
  try { tight = await agent.collectOnce() } catch (err) { t.fail(`a collection on a disk with no free byte failed: ${(err as Error).message}`) }
  const after = fs.readdirSync(path.join(dir, 'spool'))
  t.ok(tight !== undefined && after.includes(String(tight.seq).padStart(16, '0') + '.json'), 'with no free byte, the new report is in the spool')
  t.notOk(after.some(f => f.endsWith('.tmp')) || fs.readdirSync(dir).some(f => f.endsWith('.tmp')), 'with no free byte, no temp file left behind')
})

t.test('state-file errors name the file', async t => {
  const dir = tempDir(t, 'vigie-bounds-')
  fs.writeFileSync(statePath(dir), '{ not json')
  t.throws(() => readState(dir), { message: new RegExp(`state file ${statePath(dir).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged`) })
  const ro = path.join(dir, 'ro')
  fs.mkdirSync(ro)
  fs.writeFileSync(path.join(ro, 'state.json.x'), '')
  fs.chmodSync(ro, 0o500)
  t.teardown(() => { fs.chmodSync(ro, 0o700) })
  if (process.getuid?.() === 0) {
    // root ignores folder modes: use a path under a file instead.
    const file = path.join(dir, 'plain')
    fs.writeFileSync(file, '')
    t.throws(() => { writeState(path.join(file, 'sub'), { collectorUrl: 'x', agentId: 'a', agentToken: 'b', nextSeq: 1 }) }, /plain/)
  } else {
    t.throws(() => { writeState(ro, { collectorUrl: 'x', agentId: 'a', agentToken: 'b', nextSeq: 1 }) }, { message: /state file .*ro\/state\.json/ })
  }
})
