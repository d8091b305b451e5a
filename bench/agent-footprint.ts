/**
 * Agent footprint beside Prometheus node_exporter, measured in the same run.
 * Not a test. Runs the real agent (bundled as in the single-file build, run by
 * plain node) against a real collector for a fixed time at the default
 * cadence, twice side by side (default Node flags, and the service unit's
 * heap flags), and node_exporter scraped at the same interval. CPU from
 * /proc/<pid>/stat utime+stime, peak RSS from /proc/<pid>/status VmHWM.
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
import { build } from 'esbuild'
import { startCollector } from '../collector/main.js'
import { NODE_FLAGS } from '../agent/install/service-files.js'

const ROOT = path.resolve(import.meta.dirname, '..')
const TICKS = 100
const ENROLL = 'bench-enroll-token-000001'

const { values } = parseArgs({ options: { duration: { type: 'string', default: '180' }, interval: { type: 'string', default: '30' }, exporter: { type: 'string', default: '/usr/bin/prometheus-node-exporter' } } })
const durationSec = Number(values.duration)
const intervalSec = Number(values.interval)

interface Usage { cpuSec: number, hwmBytes: number, rssBytes: number }
function usage (pid: number): Usage {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
  return { cpuSec: (Number(f[11]) + Number(f[12])) / TICKS, hwmBytes: kb('VmHWM'), rssBytes: kb('VmRSS') }
}

async function main (): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-footprint-'))
  const bundle = path.join(dir, 'vigie-agent.cjs')
  await build({
    entryPoints: [path.join(ROOT, 'agent', 'build', 'sea-entry.ts')], outfile: bundle, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error',
    banner: { js: "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__import_meta_url', 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
    external: ['bufferutil', 'utf-8-validate']
  })
  const collector = await startCollector({ config: { dataDir: path.join(dir, 'collector'), port: 0, host: '127.0.0.1', enrollToken: ENROLL, logLevel: 'silent', reportIntervalSec: intervalSec }, env: {}, logger: false })
  const children: ChildProcess[] = []
  const agent = (name: string, nodeFlags: string[]): ChildProcess => {
    const c = spawn(process.execPath, [...nodeFlags, bundle, 'run', '--collector', collector.url, '--enroll-token', ENROLL, '--state-dir', path.join(dir, name), '--interval', String(intervalSec), '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'inherit'] })
    children.push(c)
    return c
  }
  const plain = agent('agent-plain', [])
  const tuned = agent('agent-tuned', NODE_FLAGS.split(' '))
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
  // Steady state starts after two cadences: start-up, the first inventory and baselines are behind us.
  const steadyAt = Math.min(durationSec / 2, 2 * intervalSec + 5)
  await new Promise(resolve => setTimeout(resolve, steadyAt * 1000))
  const mid = { plain: usage(plain.pid!), tuned: usage(tuned.pid!), exporter: usage(exporter.pid!) }
  await new Promise(resolve => setTimeout(resolve, (durationSec - steadyAt) * 1000))
  const end = { plain: usage(plain.pid!), tuned: usage(tuned.pid!), exporter: usage(exporter.pid!) }
  clearInterval(scraper)
  const machines = collector.app.vigie.registry.listMachines()
  for (const c of children) c.kill('SIGTERM')
  await collector.app.close()
  fs.rmSync(dir, { recursive: true, force: true })

  const steadySec = durationSec - steadyAt
  const mb = (b: number): string => (b / 1048576).toFixed(1)
  const pct = (cpu: number, s: number): string => (100 * cpu / s).toFixed(3)
  const ex = end.exporter
  const exSteady = ex.cpuSec - mid.exporter.cpuSec
  const rows: Array<[string, Usage, number]> = [['agent (default flags)', end.plain, end.plain.cpuSec - mid.plain.cpuSec], [`agent (${NODE_FLAGS})`, end.tuned, end.tuned.cpuSec - mid.tuned.cpuSec], ['node_exporter', ex, exSteady]]
  const out: string[] = []
  out.push(`| process | CPU s total | CPU % total | CPU s steady (last ${steadySec} s) | CPU % steady | × node_exporter (steady) | peak RSS MB (VmHWM) | RSS MB at end |`)
  out.push('|---|---|---|---|---|---|---|---|')
  for (const [name, u, steady] of rows) {
    out.push(`| ${name} | ${u.cpuSec.toFixed(2)} | ${pct(u.cpuSec, durationSec)} | ${steady.toFixed(2)} | ${pct(steady, steadySec)} | ${exSteady > 0 ? (steady / exSteady).toFixed(2) : 'n/a'} | ${mb(u.hwmBytes)} | ${mb(u.rssBytes)} |`)
  }
  out.push('')
  out.push(`reports stored by the collector: ${machines.map(m => `${m.hostname} seq ${m.lastSeq}`).join(', ')}; node_exporter scrapes: ${scrapes} (${Math.round(scrapeBytes / Math.max(1, scrapes))} bytes each)`)
  out.push(`targets: agent CPU ≤ 2× node_exporter → ${(end.tuned.cpuSec - mid.tuned.cpuSec) / Math.max(exSteady, 1e-9) <= 2 ? 'met' : 'NOT met'} (steady, tuned); peak RSS ≤ 60 MB → ${end.tuned.hwmBytes <= 60 * 1048576 ? 'met' : 'NOT met'} (tuned), ${end.plain.hwmBytes <= 60 * 1048576 ? 'met' : 'NOT met'} (default flags)`)
  process.stdout.write(out.join('\n') + '\n')
}

main().catch((err: unknown) => { process.stderr.write(`agent-footprint: ${(err as Error).stack ?? String(err)}\n`); process.exit(1) })
