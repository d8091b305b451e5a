/**
 * Agent footprint beside Prometheus node_exporter, measured in the same run.
 * Not a test. Runs the real agent (bundled with the single-file build's own
 * esbuild configuration, agent/build/bundle.ts, run by plain node) against a
 * real collector for a fixed time at the default cadence, twice side by side:
 * with Node's default flags, and as the service runs it (the unit's
 * NODE_OPTIONS, agent/install/service-files.ts); and node_exporter, scraped
 * at the same interval.
 *
 * CPU is on-CPU time from /proc/<pid>/task/<tid>/schedstat (nanoseconds,
 * every thread of the process, sampled each second so a thread that exits
 * keeps what it used), read the same way for the agents and node_exporter.
 * /proc/<pid>/stat utime+stime, counted in 10 ms ticks, is printed beside it:
 * at ~0.03 s per steady window it is too coarse for a ratio. Peak RSS is
 * /proc/<pid>/status VmHWM.
 *
 *   npx tsx bench/agent-footprint.ts [--duration 180] [--interval 30] [--exporter /usr/bin/prometheus-node-exporter]
 *
 * Targets: agent CPU ≤ 2× node_exporter's, peak RSS ≤ 60 MB.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startCollector } from '../collector/main.js'
import { NODE_FLAGS } from '../agent/install/service-files.js'
import { bundleAgent } from '../agent/build/bundle.js'

const TICKS = 100
const ENROLL = 'bench-enroll-token-000001'

const { values } = parseArgs({ options: { duration: { type: 'string', default: '180' }, interval: { type: 'string', default: '30' }, exporter: { type: 'string', default: '/usr/bin/prometheus-node-exporter' } } })
const durationSec = Number(values.duration)
const intervalSec = Number(values.interval)

interface Usage { cpuSec: number, tickSec: number, hwmBytes: number, rssBytes: number }

/** Follows one process: on-CPU ns per thread (schedstat), kept per thread id so exited threads still count. */
class Meter {
  readonly #threads = new Map<string, number>()
  #tickSec = 0
  #hwm = 0
  #rss = 0
  constructor (readonly pid: number) {}
  sample (): void {
    let tasks: string[]
    try { tasks = fs.readdirSync(`/proc/${this.pid}/task`) } catch { return }
    for (const t of tasks) {
      try { this.#threads.set(t, Number(fs.readFileSync(`/proc/${this.pid}/task/${t}/schedstat`, 'utf8').split(' ')[0])) } catch { /* exited meanwhile */ }
    }
    try {
      const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      this.#tickSec = (Number(f[11]) + Number(f[12])) / TICKS
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8')
      const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
      this.#hwm = kb('VmHWM')
      this.#rss = kb('VmRSS')
    } catch { /* exited */ }
  }
  /** a copy of the per-thread counters, to subtract later */
  mark (): Map<string, number> { return new Map(this.#threads) }
  usage (since?: Map<string, number>): Usage {
    let ns = 0
    for (const [t, v] of this.#threads) ns += v - (since?.get(t) ?? 0)
    return { cpuSec: ns / 1e9, tickSec: this.#tickSec, hwmBytes: this.#hwm, rssBytes: this.#rss }
  }
}

async function main (): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-footprint-'))
  const bundle = path.join(dir, 'vigie-agent.cjs')
  await bundleAgent(bundle)
  const collector = await startCollector({ config: { dataDir: path.join(dir, 'collector'), port: 0, host: '127.0.0.1', enrollToken: ENROLL, logLevel: 'silent', reportIntervalSec: intervalSec }, env: {}, logger: false })
  const children: ChildProcess[] = []
  const agent = (name: string, env: NodeJS.ProcessEnv): ChildProcess => {
    const c = spawn(process.execPath, [bundle, 'run', '--collector', collector.url, '--enroll-token', ENROLL, '--state-dir', path.join(dir, name), '--interval', String(intervalSec), '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } })
    children.push(c)
    return c
  }
  const plain = agent('agent-plain', { NODE_OPTIONS: '' })
  // As the service unit runs it: its flags in NODE_OPTIONS (a single-file executable takes none on its command line).
  const tuned = agent('agent-tuned', { NODE_OPTIONS: NODE_FLAGS })
  const exporterPort = 19100 + Math.floor(Math.random() * 800)
  const exporter = spawn(values.exporter, [`--web.listen-address=127.0.0.1:${exporterPort}`, '--log.level=error'], { stdio: ['ignore', 'ignore', 'inherit'] })
  children.push(exporter)
  let scrapes = 0
  let scrapeBytes = 0
  const scrape = async (): Promise<void> => {
    try { scrapeBytes += (await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text()).length; scrapes++ } catch { /* not up yet */ }
  }
  const scraper = setInterval(() => { void scrape() }, intervalSec * 1000)
  setTimeout(() => { void scrape() }, 1000)
  process.stderr.write(`footprint: ${durationSec} s at a ${intervalSec} s cadence (agent bundle run by node ${process.version}; node_exporter ${values.exporter})\n`)
  const meters = { plain: new Meter(plain.pid!), tuned: new Meter(tuned.pid!), exporter: new Meter(exporter.pid!) }
  const sampleAll = (): void => { for (const m of Object.values(meters)) m.sample() }
  const sampler = setInterval(sampleAll, 1000)
  // Steady state starts after two cadences: start-up, the first inventory and baselines are behind us.
  const steadyAt = Math.min(durationSec / 2, 2 * intervalSec + 5)
  await new Promise(resolve => setTimeout(resolve, steadyAt * 1000))
  sampleAll()
  const mid = { plain: meters.plain.mark(), tuned: meters.tuned.mark(), exporter: meters.exporter.mark() }
  const midTicks = { plain: meters.plain.usage().tickSec, tuned: meters.tuned.usage().tickSec, exporter: meters.exporter.usage().tickSec }
  await new Promise(resolve => setTimeout(resolve, (durationSec - steadyAt) * 1000))
  sampleAll()
  clearInterval(sampler)
  clearInterval(scraper)
  const end = { plain: meters.plain.usage(), tuned: meters.tuned.usage(), exporter: meters.exporter.usage() }
  const steady = { plain: meters.plain.usage(mid.plain), tuned: meters.tuned.usage(mid.tuned), exporter: meters.exporter.usage(mid.exporter) }
  const machines = collector.app.registry.listMachines()
  for (const c of children) c.kill('SIGTERM')
  await collector.app.close()
  fs.rmSync(dir, { recursive: true, force: true })

  const steadySec = durationSec - steadyAt
  const mb = (b: number): string => (b / 1048576).toFixed(1)
  const pct = (cpu: number, sec: number): string => (100 * cpu / sec).toFixed(3)
  const exSteady = steady.exporter.cpuSec
  const exTicks = end.exporter.tickSec - midTicks.exporter
  const rows: Array<[string, keyof typeof end]> = [['agent (default flags)', 'plain'], [`agent (service: NODE_OPTIONS=${NODE_FLAGS})`, 'tuned'], ['node_exporter', 'exporter']]
  const out: string[] = []
  out.push(`| process | CPU s total | CPU s steady (last ${steadySec} s) | CPU % steady | × node_exporter (steady) | ticks s steady (×) | peak RSS MB (VmHWM) | RSS MB at end |`)
  out.push('|---|---|---|---|---|---|---|---|')
  for (const [name, k] of rows) {
    const ticks = end[k].tickSec - midTicks[k]
    out.push(`| ${name} | ${end[k].cpuSec.toFixed(3)} | ${steady[k].cpuSec.toFixed(3)} | ${pct(steady[k].cpuSec, steadySec)} | ${exSteady > 0 ? (steady[k].cpuSec / exSteady).toFixed(2) : 'n/a'} | ${ticks.toFixed(2)} (${exTicks > 0 ? (ticks / exTicks).toFixed(2) : 'n/a'}) | ${mb(end[k].hwmBytes)} | ${mb(end[k].rssBytes)} |`)
  }
  out.push('')
  out.push(`CPU: on-CPU time of every thread (schedstat, ns); "ticks": utime+stime from /proc/<pid>/stat in 10 ms steps, for comparison`)
  out.push(`reports stored by the collector: ${machines.map(m => `${m.hostname} seq ${m.lastSeq}`).join(', ')}; node_exporter scrapes: ${scrapes} (${Math.round(scrapeBytes / Math.max(1, scrapes))} bytes each)`)
  const met = (ok: boolean): string => ok ? 'met' : 'NOT met'
  out.push(`targets: agent CPU ≤ 2× node_exporter → ${met(steady.tuned.cpuSec <= 2 * exSteady)} (service flags), ${met(steady.plain.cpuSec <= 2 * exSteady)} (default flags); peak RSS ≤ 60 MB → ${met(end.tuned.hwmBytes <= 60 * 1048576)} (service flags), ${met(end.plain.hwmBytes <= 60 * 1048576)} (default flags)`)
  process.stdout.write(out.join('\n') + '\n')
}

main().catch((err: unknown) => { process.stderr.write(`agent-footprint: ${(err as Error).stack ?? String(err)}\n`); process.exit(1) })
