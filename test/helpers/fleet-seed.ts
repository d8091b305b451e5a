/**
 * A varied fleet for dashboard tests and the overview bench: enrolls machines in
 * the registry and stores reports (gauges, disks, battery or its absence,
 * inventory) without HTTP, so ten thousand machines seed in seconds. Later
 * reports go through `sendReport`, the real ingest path, so live events fire.
 */
import type { FastifyInstance } from 'fastify'
import type { InstalledApp, MetricValue, Report, Unavailable } from '../../protocol/index.js'

export interface SeededMachine {
  id: string
  hostname: string
  /** last seq used; sendReport increments it */
  seq: number
  /** stable traits the generator gives this machine */
  laptop: boolean
  model: string
  os: string
  osVersion: string
  user: string
}

export interface SeedOptions {
  count: number
  /** hostnames are `${prefix}-00042` (default 'pc') */
  prefix?: string
  /** reports of history per machine, spaced `intervalMs` apart and ending now (default 1) */
  history?: number
  intervalMs?: number
  /** this fraction of machines last reported two hours ago, so they show offline (default 0) */
  offlineFraction?: number
  /** clock (default Date.now) */
  now?: number
}

const MODELS = [
  { vendor: 'Dell', model: 'Latitude 5440', laptop: true },
  { vendor: 'Lenovo', model: 'ThinkPad T14 Gen 4', laptop: true },
  { vendor: 'HP', model: 'EliteDesk 800 G6', laptop: false },
  { vendor: 'Apple', model: 'MacBook Air M2', laptop: true },
  { vendor: 'Dell', model: 'OptiPlex 7010', laptop: false }
]
const OSES = [
  { os: 'Windows 11 Pro', version: '23H2 build 22631', kernel: '10.0.22631' },
  { os: 'Ubuntu', version: '24.04', kernel: '6.8.0-45-generic' },
  { os: 'macOS', version: '14.6', kernel: '23.6.0' },
  { os: 'Windows 10 Pro', version: '22H2 build 19045', kernel: '10.0.19045' }
]
const USERS = ['amartin', 'bdupont', 'cbernard', 'dpetit', 'edurand', 'fleroy', 'gmoreau', 'hsimon', 'ilaurent', 'jmichel']
const APPS: InstalledApp[] = [
  { name: 'firefox', version: '128.0', source: 'windows' },
  { name: 'thunderbird', version: '115.12', source: 'windows' },
  { name: 'libreoffice', version: '24.2.4', source: 'windows' },
  { name: 'vlc', version: '3.0.21', source: 'windows' },
  { name: '7zip', version: '24.07', source: 'windows' }
]

/** A deterministic pseudo-random number in [0, 1) for machine i and salt s. */
function rnd (i: number, s: number): number {
  const x = Math.sin(i * 12.9898 + s * 78.233) * 43758.5453
  return x - Math.floor(x)
}

function traits (i: number, prefix: string): SeededMachine {
  const m = MODELS[i % MODELS.length]
  const o = OSES[(i >> 1) % OSES.length]
  return {
    id: '',
    hostname: `${prefix}-${String(i).padStart(5, '0')}`,
    seq: 0,
    laptop: m.laptop,
    model: m.model,
    os: o.os,
    osVersion: o.version,
    user: USERS[i % USERS.length]
  }
}

export interface ReportValues {
  cpuPct?: number
  memPct?: number
  diskPct?: number
  tempC?: number
  batteryHealthPct?: number
  batteryChargePct?: number
  apps?: InstalledApp[]
}

/** Builds one protocol report for a machine at `atMs`, with values around its usual ones. */
export function makeReport (m: SeededMachine, atMs: number, values: ReportValues = {}, index = Number(m.hostname.replace(/\D/g, '')) || 0, sentMs = atMs): Report {
  const t = (atMs / 60_000) % 1000
  const cpu = values.cpuPct ?? Math.round((10 + 25 * rnd(index, 1) + 15 * Math.abs(Math.sin(t / 7 + index))) * 10) / 10
  const mem = values.memPct ?? Math.round((35 + 45 * rnd(index, 2)) * 10) / 10
  const disk = values.diskPct ?? Math.round((30 + 65 * rnd(index, 3) ** 2) * 10) / 10
  const metrics: MetricValue[] = [
    { name: 'cpu.load_pct', unit: 'percent', value: cpu },
    { name: 'mem.used_pct', unit: 'percent', value: mem },
    { name: 'mem.total_bytes', unit: 'bytes', value: 16 * 2 ** 30 },
    { name: 'swap.used_pct', unit: 'percent', value: Math.round(5 * rnd(index, 4) * 10) / 10 },
    { name: 'fs.used_pct', unit: 'percent', value: disk, labels: { mount: m.os.startsWith('Windows') ? 'C:' : '/' } },
    { name: 'net.rx_bytes_per_sec', unit: 'bytes_per_second', value: Math.round(200_000 * rnd(index, 5) * (1 + Math.sin(t))), labels: { iface: 'eth0' } },
    { name: 'net.tx_bytes_per_sec', unit: 'bytes_per_second', value: Math.round(50_000 * rnd(index, 6) * (1 + Math.cos(t))), labels: { iface: 'eth0' } }
  ]
  const unavailable: Unavailable[] = []
  if (index % 3 !== 2) {
    metrics.push({ name: 'temp.cpu_c', unit: 'celsius', value: values.tempC ?? Math.round((45 + 30 * rnd(index, 7) + cpu / 10) * 10) / 10 })
    metrics.push({ name: 'temp.cpu_max_c', unit: 'celsius', value: (values.tempC ?? 50 + 30 * rnd(index, 7)) + 4 })
  } else {
    unavailable.push({ probe: 'temperatures', reason: 'no temperature sensors exposed by this machine' })
  }
  if (m.laptop) {
    metrics.push({ name: 'battery.health_pct', unit: 'percent', value: values.batteryHealthPct ?? Math.round((55 + 45 * rnd(index, 8)) * 10) / 10 })
    metrics.push({ name: 'battery.charge_pct', unit: 'percent', value: values.batteryChargePct ?? Math.round(20 + 80 * rnd(index, 9 + Math.floor(t / 30))) })
  } else {
    unavailable.push({ probe: 'battery', reason: 'no battery' })
  }
  m.seq++
  const apps = values.apps ?? APPS.map((a, k) => (k === 0 && index % 4 === 0 ? { ...a, version: '127.0.2' } : a))
  return {
    v: 1,
    agentId: m.id,
    seq: m.seq,
    sampledAt: new Date(atMs).toISOString(),
    // The agent's clock when it sent the batch: the collector corrects skew from it.
    agentClock: new Date(sentMs).toISOString(),
    host: {
      hostname: m.hostname,
      os: m.os,
      osVersion: m.osVersion,
      kernel: OSES.find(o => o.os === m.os)?.kernel ?? '1',
      arch: m.model.startsWith('MacBook') ? 'arm64' : 'x64',
      manufacturer: MODELS.find(x => x.model === m.model)?.vendor,
      model: m.model,
      serial: `SN${String(index).padStart(7, '0')}`,
      cpuModel: m.model.startsWith('MacBook') ? 'Apple M2' : 'Intel Core i5-1345U',
      cpuCores: 8,
      memTotalBytes: 16 * 2 ** 30,
      agentVersion: '0.1.0',
      bootTime: new Date(atMs - 3 * 3_600_000).toISOString(),
      user: m.user
    },
    metrics,
    unavailable,
    inventory: { hash: 'h' + apps.map(a => a.name + a.version).join('|').length.toString(16).padStart(8, '0') + apps.map(a => a.version).join('').replace(/\W/g, ''), apps }
  }
}

/** Enrolls `count` machines and stores their history; returns them in hostname order. */
export async function seedFleet (app: FastifyInstance, opts: SeedOptions): Promise<SeededMachine[]> {
  const { registry } = app
  const now = opts.now ?? Date.now()
  const history = Math.max(1, opts.history ?? 1)
  const interval = opts.intervalMs ?? 60_000
  const offlineEvery = opts.offlineFraction !== undefined && opts.offlineFraction > 0 ? Math.round(1 / opts.offlineFraction) : 0
  const out: SeededMachine[] = []
  for (let i = 0; i < opts.count; i++) {
    const m = traits(i, opts.prefix ?? 'pc')
    m.id = (await app.agents.enroll({ hostname: m.hostname, machineKey: `seed-${opts.prefix ?? 'pc'}-${i}` }, now)).agentId
    const end = offlineEvery > 0 && i % offlineEvery === offlineEvery - 1 ? now - 2 * 3_600_000 : now
    const reports: Report[] = []
    for (let k = history - 1; k >= 0; k--) reports.push(makeReport(m, end - k * interval, {}, i, end))
    // Straight to the registry: seeding needs no live events, and receivedMs sets "last seen";
    // the in-memory fleet list takes the machine as ingest would tell it after a commit.
    for (let at = 0; at < reports.length; at += 500) registry.ingest(m.id, reports.slice(at, at + 500), end)
    const row = registry.getMachine(m.id)
    if (row !== undefined) app.fleet.upsert(row)
    out.push(m)
  }
  return out
}

/** Stores one report through the real ingest path (events → live socket, detection). */
export function sendReport (app: FastifyInstance, m: SeededMachine, values: ReportValues = {}, atMs = Date.now()): Report {
  const report = makeReport(m, atMs, values)
  app.ingest.ingest(m.id, [report])
  return report
}

