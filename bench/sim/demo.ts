/**
 * A small simulated fleet beside the real local agent, for `npm start -- --demo N`.
 * Two days of history are backfilled (at 10-minute spacing) so the charts are not
 * empty, then the machines report in real time; a few of them carry faults that
 * detection should pick up (scenarios/demo.json).
 */
import fs from 'node:fs'
import path from 'node:path'
import { loadScenario } from './scenario.js'
import { startSimulation } from './simulation.js'

export interface DemoFleetOptions {
  collectorUrl: string
  enrollToken: string
  count: number
  seed: number
  /** where the demo keeps its agents' credentials and ground truth */
  dataDir: string
  /** report interval, seconds (default 30) */
  intervalSec?: number
  /** history to backfill, ms (default 2 days; 0 for none) */
  backfillMs?: number
}

export async function startDemoFleet (opts: DemoFleetOptions): Promise<{ stop: () => Promise<void> }> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 10_000) throw new Error(`--demo ${opts.count}: expected a number of machines from 1 to 10000`)
  fs.mkdirSync(opts.dataDir, { recursive: true })
  const backfillMs = opts.backfillMs ?? 2 * 86_400_000
  const sim = await startSimulation({
    collectorUrl: opts.collectorUrl,
    enrollToken: opts.enrollToken,
    agents: opts.count,
    seed: opts.seed,
    scenario: loadScenario(path.join(import.meta.dirname, 'scenarios', 'demo.json')),
    intervalSec: opts.intervalSec ?? 30,
    ...(backfillMs > 0 ? { backfillMs, backfillIntervalSec: 600 } : {}),
    transport: 'ws',
    credentialsFile: path.join(opts.dataDir, 'credentials.json'),
    truthFile: path.join(opts.dataDir, 'truth.jsonl')
  })
  return { stop: sim.stop }
}
