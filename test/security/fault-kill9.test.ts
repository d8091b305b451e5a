/**
 * kill -9 the collector in the middle of sustained ingest, restart it on the same
 * data: every report it acknowledged is there, none twice, and what was in flight
 * is stored exactly once when the agent resends it.
 */
import t from 'tap'
import { tempDir } from '../helpers/temp.js'
import { api, spawnCollector } from '../helpers/processes.js'
import { makeReport } from '../helpers/reports.js'
import { waitFor } from '../helpers/wait.js'

const ENROLL = 'kill9-enroll-token-0123456789'
const BATCH = 25
const LOOPS = 4

t.test('kill -9 during sustained ingest loses no acknowledged report and stores none twice', async t => {
  const dataDir = tempDir(t)
  const env = { VIGIE_ENROLL_TOKEN: ENROLL, VIGIE_RATE_LIMIT_AGENT: '0', VIGIE_RATE_LIMIT_IP: '0' }
  const first = await spawnCollector({ dataDir, env })
  t.teardown(() => first.stop())
  const adminToken = first.adminToken!
  const enrolled = await (await fetch(`${first.url}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollToken: ENROLL, hostname: 'kill9-pc', agentVersion: '1' }) })).json() as { agentId: string, agentToken: string }
  const { agentId, agentToken } = enrolled
  const base = Date.now() - 24 * 3_600_000

  let nextSeq = 1
  const acked = new Set<number>()
  const sent = new Set<number>()
  let batchesAcked = 0
  let stop = false
  const post = (url: string, seqs: number[]) => fetch(`${url}/api/v1/reports`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ reports: seqs.map(s => makeReport(agentId, s, { atMs: base + s * 1000 })) })
  })
  async function loop (): Promise<void> {
    while (!stop) {
      const seqs = Array.from({ length: BATCH }, () => nextSeq++)
      for (const s of seqs) sent.add(s)
      try {
        const res = await post(first.url, seqs)
        if (res.status !== 200) throw new Error(`status ${res.status}`)
        const ack = await res.json() as { stored: number[], duplicates: number[] }
        for (const s of [...ack.stored, ...ack.duplicates]) acked.add(s)
        batchesAcked++
      } catch {
        return // the collector is gone
      }
    }
  }
  const loops = Array.from({ length: LOOPS }, () => loop())
  await waitFor(() => batchesAcked >= 60, { timeoutMs: 60_000, what: 'sustained ingest' })
  first.proc.kill('SIGKILL')
  await Promise.all(loops)
  stop = true
  await first.stop()
  const inFlight = [...sent].filter(s => !acked.has(s))
  t.comment(`killed with SIGKILL after ${acked.size} reports acknowledged in ${batchesAcked} batches; ${inFlight.length} reports in flight`)

  const second = await spawnCollector({ dataDir, env })
  t.teardown(() => second.stop())
  // Resend everything, as an agent does with its spool: acknowledged reports come back as duplicates.
  const all = [...sent].sort((a, b) => a - b)
  const again = { stored: [] as number[], duplicates: [] as number[] }
  for (let i = 0; i < all.length; i += 400) {
    const res = await post(second.url, all.slice(i, i + 400))
    t.equal(res.status, 200)
    const ack = await res.json() as { stored: number[], duplicates: number[] }
    again.stored.push(...ack.stored)
    again.duplicates.push(...ack.duplicates)
  }
  const dupSet = new Set(again.duplicates)
  const missing = [...acked].filter(s => !dupSet.has(s))
  t.same(missing, [], `all ${acked.size} acknowledged reports survived the kill`)
  t.ok(again.stored.every(s => !acked.has(s)), 'only reports never acknowledged are stored on resend')
  t.comment(`after restart: ${again.duplicates.length} already stored (incl. ${again.duplicates.length - acked.size} committed but unacknowledged), ${again.stored.length} stored from the resend`)

  const detail = (await api(`${second.url}/api/v1/machines/${agentId}`, adminToken)).body
  t.equal(detail.lastSeq, all[all.length - 1])
  const from = base
  const to = base + (all[all.length - 1] + 1) * 1000
  const series = (await api(`${second.url}/api/v1/machines/${agentId}/metrics?name=cpu.load_pct&from=${from}&to=${to}&step=1000&agg=last`, adminToken)).body
  const times = (series.series[0].points as Array<[number, number]>).map(p => p[0])
  t.equal(new Set(times).size, times.length, 'no sample twice')
  t.equal(times.length, all.length, `exactly one sample per report (${all.length})`)
})
