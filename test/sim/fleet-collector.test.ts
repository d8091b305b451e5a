import t from 'tap'
import path from 'node:path'
import { spawnCollector } from '../../bench/lib/child.js'
import { startSimulation } from '../../bench/sim/simulation.js'
import { readTruth, type FaultTruth, type MachineTruth, type RunTruth } from '../../bench/sim/truth.js'
import { tempDir } from '../helpers/temp.js'

const DAY = 86_400_000

async function getJson (url: string, token: string): Promise<any> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  return res.json()
}

t.test('a backfilled fleet of 20 simulated agents shows up on the collector with plausible values and correct ground truth', async t => {
  const c = await spawnCollector()
  t.teardown(async () => { await c.stop(); c.cleanup() })
  const tmp = tempDir(t, 'vigie-sim-test-')
  const truthFile = path.join(tmp, 'truth.jsonl')

  const sim = await startSimulation({
    collectorUrl: c.ready.url,
    enrollToken: c.ready.enrollToken,
    agents: 20,
    seed: 20250310,
    scenario: {
      name: 'two-faults',
      fleet: { schedule: 'always-on' },
      faults: [
        { kind: 'disk_fill', count: 1, start: '12h', ratePctPerDay: 20 },
        { kind: 'smart_degradation', count: 1, start: '1d', failAfter: '5d' }
      ]
    },
    backfillMs: 2 * DAY,
    backfillIntervalSec: 600,
    truthFile
  })
  t.teardown(sim.stop)
  await sim.caughtUp(120_000)
  const st = sim.stats()
  t.equal(st.reportsQueued, 0)
  t.ok(st.reportsStored >= 20 * 280, `${st.reportsStored} reports stored`)
  t.same(st.errors, {})

  const list = await getJson(`${c.ready.url}/api/v1/machines?limit=1000&sort=hostname`, c.ready.adminToken)
  t.equal(list.total, 20, 'every agent is a machine')
  const byId = new Map<string, any>(list.items.map((m: any) => [m.id, m]))
  for (const a of sim.agents) {
    const m = byId.get(a.machineId)
    t.ok(m !== undefined, `${a.hostname} listed`)
    if (m === undefined) continue
    t.equal(m.hostname, a.hostname)
    t.equal(m.model, a.profile.hw.model)
    t.ok(m.cpuPct >= 0 && m.cpuPct <= 100, `cpu ${m.cpuPct}`)
    t.ok(m.memPct > 5 && m.memPct < 100, `mem ${m.memPct}`)
    t.ok(m.diskPct > 10 && m.diskPct <= 100, `disk ${m.diskPct}`)
    t.ok(m.tempC > 25 && m.tempC < 100, `temp ${m.tempC}`)
    t.equal(m.batteryHealthPct !== undefined, a.profile.hw.kind === 'laptop')
    // Sample times are the simulated ones: the latest is within one backfill step of now.
    t.ok(Date.now() - Date.parse(m.lastSampledAt) < 15 * 60_000, `last sample ${m.lastSampledAt}`)
  }

  // History is stored at the simulated times, two days back.
  const one = sim.agents[0]
  const series = await getJson(`${c.ready.url}/api/v1/machines/${one.machineId}/metrics?name=cpu.load_pct&from=${Date.now() - 2 * DAY}&step=1h`, c.ready.adminToken)
  t.ok(series.series[0].points.length >= 46, `${series.series[0].points.length} hourly buckets over two days`)

  const truth = readTruth(truthFile)
  const run = truth.filter((r): r is RunTruth => r.type === 'run')
  const machines = truth.filter((r): r is MachineTruth => r.type === 'machine')
  const faults = truth.filter((r): r is FaultTruth => r.type === 'fault')
  t.equal(run.length, 1)
  t.equal(run[0].seed, 20250310)
  t.equal(machines.length, 20)
  t.same(new Set(machines.map(m => m.machineId)), new Set(sim.agents.map(a => a.machineId)), 'truth names the enrolled agent ids')
  t.equal(faults.length, 2)
  t.equal(machines.filter(m => m.faulty).length, 2)
  const disk = faults.find(f => f.kind === 'disk_fill')!
  t.equal(disk.machineId, sim.agents[disk.machineIndex].machineId)
  t.equal(disk.hostname, sim.agents[disk.machineIndex].hostname)
  t.ok(Math.abs(disk.startMs - (sim.simStartMs + 12 * 3_600_000)) < 1000, 'starts 12 h into the run')
  t.ok(disk.impactMs > disk.startMs && disk.predictable)
  t.match(disk.expected, [{ kind: 'forecast', keyPrefix: 'forecast:disk_fill:' }])
  // The faulty disk really filled up on the collector: 1.5 days at 20 %/day.
  const d = byId.get(disk.machineId)
  const healthyDisk = sim.agents[disk.machineIndex].profile.diskUsedPct0
  t.ok(d.diskPct > healthyDisk + 25, `disk ${d.diskPct} % vs ${healthyDisk.toFixed(1)} % before the fault`)
  const smart = faults.find(f => f.kind === 'smart_degradation')!
  t.equal(smart.impactMs - smart.startMs, 5 * DAY)
  const detail = await getJson(`${c.ready.url}/api/v1/machines/${smart.machineId}`, c.ready.adminToken)
  const realloc = detail.latest.find((v: any) => v.name === 'smart.reallocated_sectors')
  t.ok(realloc.value > 0, `${realloc.value} reallocated sectors`)
})
