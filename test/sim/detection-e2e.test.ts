/**
 * End to end: a simulated fleet with injected faults (bench/sim/scenarios/e2e.json)
 * drives the real collector in a child process; the incidents it opens are scored
 * against the simulator's ground truth. Every injected fault must have an open
 * incident of an expected kind, raised before impact for faults that build up;
 * healthy machines must have none.
 */
import t from 'tap'
import path from 'node:path'
import { spawnCollector } from '../../bench/lib/child.js'
import { startSimulation } from '../../bench/sim/simulation.js'
import type { FaultTruth, MachineTruth } from '../../bench/sim/truth.js'
import { waitFor } from '../helpers/wait.js'

const DAY = 86_400_000
/** the simulated history starts at this hour (UTC) */
const START_HOUR_UTC = Number(process.env.VIGIE_E2E_START_HOUR ?? 0)

interface IncidentItem { machineId: string, kind: string, key: string, openedAt: string, impactAt?: string, evidence?: { detectedAt?: string } }

/** Incidents in `state` (every state when undefined), all pages. */
async function listIncidents (url: string, token: string, state?: string): Promise<IncidentItem[]> {
  const out: IncidentItem[] = []
  for (let offset = 0; ; offset += 500) {
    const res = await fetch(`${url}/api/v1/incidents?${state !== undefined ? `state=${state}&` : ''}limit=500&offset=${offset}`, { headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 200) throw new Error(`GET /api/v1/incidents: ${res.status} ${await res.text()}`)
    const body = await res.json() as { items: IncidentItem[], total?: number }
    out.push(...body.items)
    if (body.items.length < 500) return out
  }
}

async function gauge (url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  if (m === null) throw new Error(`${name} not in /metrics`)
  return Number(m[1])
}

const until = async (what: string, ms: number, ok: () => Promise<boolean>): Promise<void> => { await waitFor(ok, { what, timeoutMs: ms, intervalMs: 100 }) }

/** When the finding was raised on the simulated clock (incidents open in real time; detectedAt is the sample time). */
function detectedMs (i: IncidentItem): number {
  return Date.parse(i.evidence?.detectedAt ?? i.openedAt)
}

t.test('injected faults open incidents before impact, healthy machines open none', async t => {
  // Four to five days of backfilled history: older than a real agent's spool keeps (72 h),
  // so the collector is told to take samples up to six days old.
  // The history starts at the same time of day in every run (fleet behaviour follows
  // the hour), so the scores do not depend on when the test runs: 4 to 5 days back.
  const backfillMs = 4 * DAY + ((Date.now() - START_HOUR_UTC * 3_600_000) % DAY)
  const c = await spawnCollector({ env: { VIGIE_DETECT_TICK_MS: '1000', VIGIE_MAX_SAMPLE_AGE_HOURS: '144' } })
  t.teardown(async () => { await c.stop(); c.cleanup() })
  const sim = await startSimulation({
    collectorUrl: c.ready.url,
    enrollToken: c.ready.enrollToken,
    agents: 20,
    seed: 7,
    scenario: path.join(import.meta.dirname, '..', '..', 'bench', 'sim', 'scenarios', 'e2e.json'),
    backfillMs,
    backfillIntervalSec: 300
  })
  t.teardown(sim.stop)
  await sim.caughtUp(240_000)
  // Detection runs in its own thread, behind ingest: wait until it has observed every
  // stored report, then for a detection tick (1 s here) and the incidents layer.
  await until('detection to catch up', 120_000, async () => await gauge(c.ready.url, 'vigie_detection_backlog_reports') === 0)
  // Two whole ticks after catching up, their findings applied: the fleet-wide findings are in.
  const ticks = await gauge(c.ready.url, 'vigie_detection_ticks_total')
  await until('two detection ticks after catching up', 30_000, async () => await gauge(c.ready.url, 'vigie_detection_ticks_total') >= ticks + 2)

  // Every incident the run opened, including those that cleared again since (a hot CPU cools at night).
  const incidents = await listIncidents(c.ready.url, c.ready.adminToken)
  const open = await listIncidents(c.ready.url, c.ready.adminToken, 'open')
  const faults = sim.truth.filter((r): r is FaultTruth => r.type === 'fault')
  const healthy = sim.truth.filter((r): r is MachineTruth => r.type === 'machine' && !r.faulty)
  t.equal(faults.length, 5, 'five faults injected')
  t.equal(healthy.length, 15)

  for (const f of faults) {
    const mine = incidents.filter(i => i.machineId === f.machineId)
    // An incident raised before the fault started is not a detection of it.
    const matching = mine.filter(i => detectedMs(i) >= f.startMs - 60_000 && f.expected.some(e => !e.fleet && e.kind === i.kind && (e.keyPrefix === undefined || i.key.startsWith(e.keyPrefix))))
    t.ok(matching.length > 0, `${f.kind} on ${f.hostname}: an expected incident was opened after the fault started (on it: ${mine.map(i => i.key).join(', ') || 'none'})`)
    if (matching.length === 0) continue
    t.ok(matching.some(i => open.some(o => o.key === i.key && o.machineId === i.machineId)) || !f.predictable || f.kind === 'thermal_runaway',
      `${f.kind}: still open at the end of the run`)
    const first = Math.min(...matching.map(detectedMs))
    if (f.predictable) {
      t.ok(first < f.impactMs, `${f.kind}: raised ${((f.impactMs - first) / 3_600_000).toFixed(1)} h before impact (${f.impactAt})`)
    }
  }

  const healthyIds = new Set(healthy.map(m => m.machineId))
  const falseOnes = incidents.filter(i => healthyIds.has(i.machineId))
  const perMachine = new Map<string, string[]>()
  for (const i of falseOnes) {
    const h = healthy.find(m => m.machineId === i.machineId)!.hostname
    perMachine.set(h, [...(perMachine.get(h) ?? []), i.key])
  }
  t.equal(falseOnes.length, 0, `no incident on a healthy machine (${falseOnes.length} on ${perMachine.size} of ${healthy.length} healthy machines)`)
  if (falseOnes.length > 0) t.comment([...perMachine].slice(0, 3).map(([h, keys]) => `${h}: ${keys.length} incidents, e.g. ${keys.slice(0, 5).join(', ')}`).join('\n'))
})
