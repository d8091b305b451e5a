/**
 * `vigie-agent doctor`: can this machine report, and what will it report?
 * Checks the collector (reachable, latency, clock skew from its Date header),
 * the state folder (owner, mode, writable, spool backlog), and runs every probe
 * to show which work here, why the others do not, and what each costs in ms.
 */
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import path from 'node:path'
import type { AgentConfig } from './config.js'
import { readState, statePath } from './state.js'
import { MAX_RESPONSE_BYTES } from './transport.js'
import { ProbeStats, type ProbeStat } from './probe-stats.js'
import { runProbe, type Probe } from './probes/probe.js'
import { configuredProbes } from './probes/registry.js'

export interface Check { name: string, ok: boolean, detail: string, warn?: boolean }
export interface DoctorReport { checks: Check[], probes: ProbeStat[], ok: boolean }

/** Clock skew above this is flagged: the collector re-times reports beyond its own tolerance. */
const SKEW_WARN_MS = 2000

function get (url: string, timeoutMs: number, ca?: Buffer): Promise<{ status: number, date?: string, sentMs: number, recvMs: number }> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http
    const sentMs = Date.now()
    const req = lib.get(url, { timeout: timeoutMs, ...(ca !== undefined ? { ca } : {}) }, res => {
      // Read nothing of the body, and stop past the bound: a hostile answer must not keep the doctor busy.
      let bytes = 0
      res.on('data', (c: Buffer) => { bytes += c.length; if (bytes > MAX_RESPONSE_BYTES) req.destroy(new Error(`answer over ${MAX_RESPONSE_BYTES} bytes; aborted`)) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, date: res.headers.date, sentMs, recvMs: Date.now() }) })
    })
    req.on('timeout', () => { req.destroy(new Error(`no answer within ${timeoutMs} ms`)) })
    req.on('error', reject)
  })
}

export async function checkCollector (config: AgentConfig): Promise<Check[]> {
  const ca = config.caFile !== undefined ? fs.readFileSync(config.caFile) : undefined
  try {
    const r = await get(`${config.collectorUrl}/healthz`, 5000, ca)
    const checks: Check[] = [{ name: 'collector', ok: r.status === 200, detail: `${config.collectorUrl}/healthz answered ${r.status} in ${r.recvMs - r.sentMs} ms` }]
    if (r.date !== undefined) {
      // HTTP dates have 1 s resolution: compare against the middle of the round trip and allow for it.
      const serverMs = Date.parse(r.date) + 500
      const skew = serverMs - (r.sentMs + r.recvMs) / 2
      const bound = 500 + (r.recvMs - r.sentMs) / 2
      const flagged = Math.abs(skew) - bound > SKEW_WARN_MS
      checks.push({ name: 'clock', ok: true, warn: flagged, detail: `this clock is ${Math.abs(Math.round(skew))} ms ${skew > 0 ? 'behind' : 'ahead of'} the collector (±${Math.round(bound)} ms)${flagged ? ': fix NTP; the collector re-times skewed reports' : ''}` })
    }
    return checks
  } catch (err) {
    return [{ name: 'collector', ok: false, detail: `${config.collectorUrl}: ${(err as Error).message}` }]
  }
}

export function checkStateDir (config: AgentConfig): Check[] {
  const dir = config.stateDir
  const checks: Check[] = []
  let st: fs.Stats
  try { st = fs.statSync(dir) } catch {
    return [{ name: 'state dir', ok: true, warn: true, detail: `${dir} does not exist yet (created at first start)` }]
  }
  const uid = process.getuid?.()
  const mode = st.mode & 0o777
  const posix = process.platform !== 'win32'
  const problems: string[] = []
  if (posix && (mode & 0o077) !== 0) problems.push(`mode ${mode.toString(8)} lets other users in (want 700)`)
  if (posix && uid !== undefined && st.uid !== uid) problems.push(`owned by uid ${st.uid}, agent runs as uid ${uid}`)
  try {
    const probe = path.join(dir, `.doctor-${process.pid}`)
    fs.writeFileSync(probe, 'x')
    fs.rmSync(probe)
  } catch (err) {
    problems.push(`not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  checks.push({ name: 'state dir', ok: problems.length === 0, detail: problems.length === 0 ? `${dir} (mode ${mode.toString(8)}, writable)` : `${dir}: ${problems.join('; ')}` })
  try {
    const s = readState(dir)
    if (s === undefined) checks.push({ name: 'enrollment', ok: true, warn: true, detail: 'not enrolled yet (needs an enrollment token at first start: --enroll-token-file, VIGIE_ENROLL_TOKEN or --enroll-token - for stdin)' })
    else if (s.refused !== undefined) {
      checks.push({ name: 'enrollment', ok: false, detail: `REVOKED: the collector refused agent ${s.agentId} at ${new Date(s.refused.atMs).toISOString()} (${s.refused.code ?? s.refused.message}); it sends nothing (one check an hour) and keeps its spool; it never enrolls again by itself: an admin must reinstate it (POST /api/v1/admin/agents/${s.agentId}/unrevoke)` })
    } else if (s.pending === true) {
      checks.push({ name: 'enrollment', ok: true, warn: true, detail: `agent ${s.agentId} is PENDING APPROVAL on the collector (its machine key was already known): reports wait in the spool until an admin approves it (POST /api/v1/admin/agents/${s.agentId}/approve)` })
    } else {
      const fmode = fs.statSync(statePath(dir)).mode & 0o777
      const leak = posix && (fmode & 0o077) !== 0
      checks.push({ name: 'enrollment', ok: !leak, detail: `agent ${s.agentId}, next seq ${s.nextSeq}, ${s.droppedReports ?? 0} reports dropped so far${leak ? `; state.json mode ${fmode.toString(8)} exposes the agent token (want 600)` : ''}` })
    }
  } catch (err) {
    checks.push({ name: 'enrollment', ok: false, detail: (err as Error).message })
  }
  const spoolDir = path.join(dir, 'spool')
  const files = fs.existsSync(spoolDir) ? fs.readdirSync(spoolDir).filter(f => f.endsWith('.json')) : []
  const bytes = files.reduce((n, f) => { try { return n + fs.statSync(path.join(spoolDir, f)).size } catch { return n } }, 0)
  checks.push({ name: 'spool', ok: true, warn: bytes > config.spoolMaxBytes * 0.8, detail: `${files.length} reports waiting, ${bytes} bytes of ${config.spoolMaxBytes}` })
  return checks
}

/**
 * Runs every probe as the agent would. Rate probes need a baseline, so fast
 * probes run twice and the second (steady-state) run is shown; slow probes
 * (SMART, inventory) run once.
 */
export async function checkProbes (probes: readonly Probe[]): Promise<ProbeStat[]> {
  const stats = new ProbeStats()
  const fast = probes.filter(p => (p.everySec ?? 0) < 3600)
  await Promise.all(fast.map(async p => { await runProbe(p) }))
  await new Promise(resolve => setTimeout(resolve, 1000))
  for (const p of probes) stats.record(p, await runProbe(p))
  return stats.list(probes)
}

export async function runDoctor (config: AgentConfig, opts: { probes?: Probe[] } = {}): Promise<DoctorReport> {
  const [collector, probes] = await Promise.all([checkCollector(config), checkProbes(opts.probes ?? configuredProbes(config))])
  const checks = [{ name: 'config', ok: true, detail: `collector ${config.collectorUrl}, every ${config.intervalSec} s, state ${config.stateDir}` }, ...collector, ...checkStateDir(config)]
  return { checks, probes, ok: checks.every(c => c.ok) }
}

const cadence = (s: number): string => s === 0 ? 'each report' : s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`

export function formatDoctor (r: DoctorReport): string {
  const lines: string[] = []
  for (const c of r.checks) lines.push(`${c.ok ? (c.warn === true ? 'WARN' : 'ok  ') : 'FAIL'}  ${c.name.padEnd(11)} ${c.detail}`)
  lines.push('', 'probe         status       ms     metrics  cadence      notes')
  for (const p of r.probes) {
    const elevated = process.platform === 'win32' || process.getuid?.() === 0
    const notes = [...p.reasons, ...(p.elevation !== undefined && p.status !== 'works' && !elevated ? [`full results need ${p.elevation}`] : [])].join('; ')
    lines.push(`${p.name.padEnd(13)} ${p.status.padEnd(11)} ${p.lastMs.toFixed(1).padStart(7)}  ${String(p.metrics).padStart(7)}  ${cadence(p.everySec).padEnd(11)}  ${notes}`)
  }
  const total = r.probes.reduce((n, p) => n + p.lastMs, 0)
  lines.push('', `${r.probes.filter(p => p.status === 'works' || p.status === 'partial').length} of ${r.probes.length} probes work here; one collection of all of them took ${total.toFixed(1)} ms of wall time`)
  lines.push(r.ok ? 'doctor: ready to report' : 'doctor: problems found (FAIL above)')
  return lines.join('\n') + '\n'
}
