/**
 * vigie-sim: a fleet of simulated agents against a real collector.
 *
 *   npx tsx bench/sim/cli.ts --collector http://127.0.0.1:8480 --enroll-token T \
 *     --agents 200 --seed 7 [--scenario bench/sim/scenarios/faults.json] [--interval 30] \
 *     [--duration 10m] [--speed 60 | --backfill 3d [--backfill-interval 300]] \
 *     [--truth truth.jsonl] [--transport ws|http] [--credentials creds.json]
 *
 * docs/simulator.md explains the clock, scenarios and the ground-truth file.
 */
import { parseArgs } from 'node:util'
import { parseDuration, parseWhen } from './scenario.js'
import { startSimulation } from './simulation.js'

const HELP = `usage: vigie-sim --collector URL --enroll-token T --agents N --seed S
  [--scenario FILE] [--interval SEC] [--duration 10m] [--speed X] [--start ISO|-7d]
  [--backfill 3d] [--backfill-interval SEC] [--backlog MIN-MAX]
  [--truth OUT.jsonl] [--transport ws|http] [--batch N] [--credentials FILE] [--quiet]`

function fail (msg: string): never {
  process.stderr.write(`vigie-sim: ${msg}\n${HELP}\n`)
  process.exit(64)
}

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      collector: { type: 'string' },
      'enroll-token': { type: 'string' },
      agents: { type: 'string' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string' },
      interval: { type: 'string', default: '30' },
      duration: { type: 'string' },
      speed: { type: 'string', default: '1' },
      start: { type: 'string' },
      backfill: { type: 'string' },
      'backfill-interval': { type: 'string' },
      backlog: { type: 'string' },
      truth: { type: 'string' },
      transport: { type: 'string', default: 'ws' },
      batch: { type: 'string' },
      credentials: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  })
  if (values.help) { process.stdout.write(HELP + '\n'); return }
  const collector = values.collector ?? fail('--collector is required')
  const enrollToken = values['enroll-token'] ?? process.env.VIGIE_ENROLL_TOKEN ?? fail('--enroll-token is required (or VIGIE_ENROLL_TOKEN)')
  const agents = Number(values.agents)
  if (!Number.isInteger(agents) || agents < 1) fail('--agents: expected a positive integer')
  const seed = Number(values.seed)
  if (!Number.isInteger(seed)) fail('--seed: expected an integer')
  const speed = Number(values.speed)
  if (!(speed > 0)) fail('--speed: expected a positive number')
  const transport = values.transport
  if (transport !== 'ws' && transport !== 'http') fail('--transport: expected ws or http')
  let backlog: { min: number, max: number } | undefined
  if (values.backlog !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(values.backlog) ?? fail('--backlog: expected MIN-MAX, e.g. 10-30')
    backlog = { min: Number(m[1]), max: Number(m[2]) }
  }
  const quiet = values.quiet
  const say = (msg: string): void => { if (!quiet) process.stderr.write(`vigie-sim: ${msg}\n`) }

  const sim = await startSimulation({
    collectorUrl: collector,
    enrollToken,
    agents,
    seed,
    ...(values.scenario !== undefined ? { scenario: values.scenario } : {}),
    intervalSec: Number(values.interval),
    ...(values.duration !== undefined ? { durationMs: parseDuration(values.duration, '--duration') } : {}),
    speed,
    ...(values.start !== undefined ? { startMs: parseWhen(values.start, Date.now(), '--start') } : {}),
    ...(values.backfill !== undefined ? { backfillMs: parseDuration(values.backfill, '--backfill') } : {}),
    ...(values['backfill-interval'] !== undefined ? { backfillIntervalSec: Number(values['backfill-interval']) } : {}),
    ...(backlog !== undefined ? { backlog } : {}),
    ...(values.truth !== undefined ? { truthFile: values.truth } : {}),
    ...(values.batch !== undefined ? { maxBatch: Number(values.batch) } : {}),
    ...(values.credentials !== undefined ? { credentialsFile: values.credentials } : {}),
    transport,
    log: say
  })
  say(`${agents} agents (seed ${seed}), ${sim.faults.length} faults injected, simulated clock from ${new Date(sim.simStartMs).toISOString()}${values.truth !== undefined ? `, ground truth in ${values.truth}` : ''}`)

  const progress = setInterval(() => {
    const s = sim.stats()
    const errs = Object.entries(s.errors).map(([k, v]) => `${k}=${v}`).join(' ')
    say(`sim ${new Date(sim.now()).toISOString()}  connected ${s.connected}/${s.agents}  stored ${s.reportsStored}  dup ${s.reportsDuplicate}  queued ${s.reportsQueued}${errs !== '' ? '  errors ' + errs : ''}`)
  }, 5000)
  progress.unref()

  const stop = (): void => { void sim.stop().then(() => process.exit(0)) }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await sim.done
  await sim.stop()
  clearInterval(progress)
  const s = sim.stats()
  say(`done: ${s.reportsStored} stored, ${s.reportsDuplicate} duplicates, ${s.framesSent} frames`)
}

main().catch((err: unknown) => {
  process.stderr.write(`vigie-sim: ${(err as Error).message}\n`)
  process.exit(1)
})
