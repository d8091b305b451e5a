/**
 * End to end with real processes: the collector as a child process (real SQLite
 * file, real HTTP, restarted midway), reports POSTed with a real agent token, a
 * real webhook receiver and the live WebSocket.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import WebSocket from 'ws'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'
import { tempDir } from '../../helpers/temp.js'
import { waitFor } from '../../helpers/wait.js'

const ROOT = path.resolve(import.meta.dirname, '../../..')
const ENROLL = 'e2e-enroll-token-123456'
const SECRET = 'e2e-webhook-secret-0123456789'
const BOUND_MS = 20_000

interface Collector { proc: ChildProcess, url: string, adminToken?: string, stop: () => Promise<void> }

async function startCollector (dataDir: string, firstStart: boolean): Promise<Collector> {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'collector/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      VIGIE_DATA_DIR: dataDir,
      VIGIE_PORT: '0',
      VIGIE_ENROLL_TOKEN: ENROLL,
      VIGIE_DASHBOARDS_DIR: path.join(dataDir, 'no-dashboards'),
      VIGIE_INCIDENT_HOLD_SEC: '1',
      VIGIE_INCIDENT_TICK_MS: '100',
      VIGIE_WEBHOOK_RETRY_MS: '100',
      // the test's receiver is on loopback, refused unless allow-listed
      VIGIE_WEBHOOK_ALLOW: '127.0.0.1/32',
      VIGIE_LOG_LEVEL: 'info'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`collector did not start: ${err}`)) }, BOUND_MS)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /"url":"(http:[^"]+)"/.exec(out)
      if (m !== null) { clearTimeout(timer); resolve(m[1]) }
    })
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`collector exited ${code}: ${err}`)) })
  })
  // The token goes to stderr after the listening line on stdout: two pipes, read
  // in no guaranteed order, so a first start waits for it.
  const tokenOf = (): string | undefined => /admin API token[^\n]*\n\s+(vgt_\S+)/.exec(err)?.[1]
  const token = firstStart ? await waitFor(async () => tokenOf(), { what: 'admin token on first start', timeoutMs: BOUND_MS }) : tokenOf()
  return {
    proc,
    url,
    ...(token !== undefined ? { adminToken: token } : {}),
    stop: async () => {
      if (proc.exitCode !== null) return
      const exited = new Promise((resolve) => proc.once('exit', resolve))
      proc.kill('SIGTERM')
      await exited
    }
  }
}

const until = async <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => await waitFor(fn, { what, timeoutMs: BOUND_MS })

t.test('a disk breach runs the whole loop: one incident, auto-resolve, webhook once each across a restart, a documented fix suggested next time', { timeout: 120_000 }, async (t) => {
  const dataDir = tempDir(t, 'vigie-e2e-')
  const rx = await startWebhookReceiver(SECRET)
  let c = await startCollector(dataDir, true)
  t.teardown(async () => { await c.stop(); await rx.close() })
  const admin = c.adminToken!
  t.ok(admin, 'first start prints the admin token')

  const api = async (method: string, p: string, body?: unknown, token = admin): Promise<any> => {
    const res = await fetch(c.url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`${method} ${p} → ${res.status} ${text}`)
    return text === '' ? undefined : JSON.parse(text)
  }
  const enroll = async (hostname: string): Promise<{ agentId: string, agentToken: string, seq: number }> => {
    const res = await fetch(c.url + '/api/v1/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollToken: ENROLL, hostname, agentVersion: '0.1.0' }) })
    return { ...(await res.json() as { agentId: string, agentToken: string }), seq: 1 }
  }
  const sendDisk = async (agent: { agentId: string, agentToken: string, seq: number }, hostname: string, values: number[], stepMs = 60_000): Promise<void> => {
    const now = Date.now()
    const reports = values.map((v, i) => ({
      v: 1,
      agentId: agent.agentId,
      seq: agent.seq++,
      sampledAt: new Date(now - (values.length - 1 - i) * stepMs).toISOString(),
      agentClock: new Date(now).toISOString(),
      host: { hostname, os: 'Linux', osVersion: 'Debian 12', kernel: '6.1', arch: 'x64', agentVersion: '0.1.0' },
      metrics: [{ name: 'fs.used_pct', unit: 'percent', value: v, labels: { mount: '/' } }],
      unavailable: []
    }))
    const res = await fetch(c.url + '/api/v1/reports', { method: 'POST', headers: { authorization: `Bearer ${agent.agentToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ reports }) })
    t.equal(res.status, 200, 'reports stored')
  }
  const incidentsOf = async (machineId: string): Promise<any[]> => (await api('GET', `/api/v1/incidents?machineId=${machineId}`)).items
  const liveEvents: any[] = []
  const openLive = async (): Promise<WebSocket> => {
    const ws = new WebSocket(`${c.url.replace('http', 'ws')}/api/v1/live?token=${admin}`)
    ws.on('message', (d) => {
      const msg = JSON.parse(String(d))
      if (msg.type === 'batch') for (const e of msg.events) if (e.type === 'incident') liveEvents.push(e)
    })
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return ws
  }

  await api('POST', '/api/v1/webhooks', { url: rx.url, secret: SECRET })
  let ws = await openLive()

  // 1. a breach held past the rule's 5 minutes opens exactly one incident
  const a = await enroll('pc-sales-01')
  await sendDisk(a, 'pc-sales-01', [97.5, 97.5, 97.5, 97.5, 97.5, 97.5, 97.5])
  const inc1 = await until('the incident', async () => (await incidentsOf(a.agentId))[0])
  t.equal(inc1.key, 'rule:disk_full:fs.used_pct{mount="/"}')
  t.equal(inc1.hostname, 'pc-sales-01')
  t.equal(inc1.state, 'open')
  await until('the live opened event', async () => liveEvents.find((e) => e.change === 'opened' && e.incident.id === inc1.id))

  // 2. more breaches open nothing more
  await sendDisk(a, 'pc-sales-01', [98, 98.5, 99])
  t.equal((await incidentsOf(a.agentId)).length, 1, 'still one incident')
  await rx.waitFor(() => rx.accepted().length === 1, BOUND_MS, 'the opened webhook')

  // 3. the receiver goes down; recovery auto-resolves after the (1 s) hold; the event waits in the outbox
  await rx.down()
  await sendDisk(a, 'pc-sales-01', [60])
  const resolved1 = await until('auto-resolve', async () => { const i = (await incidentsOf(a.agentId))[0]; return i.state === 'auto-resolved' ? i : undefined })
  t.equal(resolved1.resolvedBy, 'vigie')
  await until('the live resolved event', async () => liveEvents.find((e) => e.change === 'resolved' && e.incident.id === inc1.id))

  // 4. restart the collector while that webhook is pending; the receiver comes back
  ws.close()
  await c.stop()
  c = await startCollector(dataDir, false)
  ws = await openLive()
  t.teardown(() => { ws.close() })
  await rx.up()
  await rx.waitFor(() => rx.accepted().length === 2, BOUND_MS, 'the resolved webhook after the restart')
  t.same((await incidentsOf(a.agentId)).length, 1, 'the incident survived the restart')

  // 5. a technician resolves a second machine's incident and documents the fix
  const b = await enroll('pc-sales-02')
  await sendDisk(b, 'pc-sales-02', [96, 96, 96, 96, 96, 96, 96])
  const inc2 = await until('the second incident', async () => (await incidentsOf(b.agentId))[0])
  const done = await api('POST', `/api/v1/incidents/${inc2.id as string}/resolve`, {
    resolution: 'Cleared the Teams cache in %appdata% and the Windows update cache',
    document: { title: 'System disk full: Teams and update caches', cause: 'Teams and Windows Update never trim their caches' }
  })
  t.equal(done.state, 'resolved')
  const kb = await api('GET', '/api/v1/kb?q=teams%20cache')
  t.equal(kb.total, 1)
  const article = kb.items[0]

  // 6. the next similar incident suggests that article
  const cm = await enroll('pc-sales-03')
  await sendDisk(cm, 'pc-sales-03', [95, 95, 95, 95, 95, 95, 95])
  const inc3 = await until('the third incident', async () => (await incidentsOf(cm.agentId))[0])
  t.equal(inc3.suggestions[0]?.articleId, article.id, 'the documented fix is the top suggestion')
  t.equal(inc3.suggestions[0]?.resolvedCount, 1)
  await until('the live opened event after the restart', async () => liveEvents.find((e) => e.change === 'opened' && e.incident.id === inc3.id))

  // 7. every event reached the receiver exactly once, signed
  await rx.waitFor(() => rx.accepted().length === 5, BOUND_MS, 'five webhook events')
  const accepted = rx.deliveries.filter((d) => d.signatureValid && rx.accepted().includes(d.path + ' ' + d.eventId))
  const seen = [...new Map(accepted.map((d) => [d.eventId, `${d.body.incident.hostname as string} ${d.type}`])).values()]
  t.same(seen, ['pc-sales-01 incident.opened', 'pc-sales-01 incident.resolved', 'pc-sales-02 incident.opened', 'pc-sales-02 incident.resolved', 'pc-sales-03 incident.opened'])
  t.same(rx.duplicates(), [], 'no event twice')
  t.ok(rx.deliveries.every((d) => d.signatureValid), 'all signatures valid')
})
