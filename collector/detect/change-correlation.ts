/**
 * Change correlation: links findings that start on several machines shortly
 * after the same application update to that update.
 *
 * From each report's inventory (when it carries the app list) we record version
 * changes per machine. Every open finding is logged per machine under its key
 * (e.g. `anomaly:cpu.load_pct`). On tick, for each update (app → version):
 *   updated  = machines that made it (within the last few windows),
 *   affected = those with a finding of one key opened within `windowMs` after it;
 * if affected ≥ minAffected, affected/updated ≥ minShare, and among machines that
 * did not update the same key is rare (≤ maxOtherShare), the update is suspected:
 * one fleet 'change' finding is emitted, and each affected machine's finding is
 * re-emitted (same key, so the incident is updated) with `suspectedChange`. While
 * an update rolls out the counts grow: the fleet finding is re-emitted (same key)
 * with the new "N of M", and newly affected machines are linked.
 * Later findings with that key on updated machines carry it too.
 */
import type { Finding, SuspectedChange } from './finding.js'

const MAX_CHANGES = 50
const MAX_FINDINGS = 20
/** joins app, version and finding key in map keys (cannot occur in any of them) */
const SEP = '\u0000'

interface AppChange { app: string, from?: string, to: string, atMs: number }
interface LoggedFinding { key: string, atMs: number, finding: Finding }

/** Per machine; plain JSON. */
interface MachineChanges {
  apps: Record<string, string> | null
  changes: AppChange[]
  findings: LoggedFinding[]
}

export interface ChangeConfig { windowMs: number, minAffected: number, minShare: number, maxOtherShare: number }

export interface Correlation {
  key: string
  change: SuspectedChange
  machines: string[]
  /** first update time among affected machines */
  sinceMs: number
}

export class ChangeTracker {
  private machines = new Map<string, MachineChanges>()
  /** app, version and finding key already reported → its SuspectedChange */
  private reported = new Map<string, SuspectedChange>()
  /** same keys → machines whose findings were linked */
  private linked = new Map<string, string[]>()

  /** Record an inventory's app list (only sent when it changed). */
  recordApps (machineId: string, apps: ReadonlyArray<{ name: string, version: string }>, atMs: number): void {
    const m = this.machine(machineId)
    const next: Record<string, string> = {}
    for (const a of apps) next[a.name] = a.version
    if (m.apps !== null) {
      for (const [name, version] of Object.entries(next)) {
        const prev = m.apps[name]
        if (prev !== version) m.changes.push(prev === undefined ? { app: name, to: version, atMs } : { app: name, from: prev, to: version, atMs })
      }
      if (m.changes.length > MAX_CHANGES) m.changes.splice(0, m.changes.length - MAX_CHANGES)
    }
    m.apps = next
  }

  /**
   * Log an open finding; returns the suspected change already known for it, if any.
   * Only `strong` findings count as evidence (a marginal anomaly is too common to
   * blame an update for); every finding may still carry a known suspect.
   */
  recordFinding (f: Finding, strong = true): SuspectedChange | undefined {
    const m = this.machine(f.machineId)
    if (strong) {
      m.findings.push({ key: f.key, atMs: f.atMs, finding: f })
      if (m.findings.length > MAX_FINDINGS) m.findings.shift()
    }
    for (const c of m.changes) {
      const s = this.reported.get(`${c.app}${SEP}${c.to}${SEP}${f.key}`)
      if (s !== undefined && f.atMs >= c.atMs) return s
    }
    return undefined
  }

  /** Find new correlations as of `nowMs`. */
  correlate (nowMs: number, cfg: ChangeConfig): Array<Correlation & { findings: Finding[] }> {
    const horizon = nowMs - 4 * cfg.windowMs
    const updates = new Map<string, Array<{ machineId: string, change: AppChange }>>()
    for (const [id, m] of this.machines) {
      for (const c of m.changes) {
        if (c.atMs < horizon) continue
        const k = `${c.app}${SEP}${c.to}`
        const list = updates.get(k) ?? []
        if (!list.some((u) => u.machineId === id)) list.push({ machineId: id, change: c })
        updates.set(k, list)
      }
    }
    const out: Array<Correlation & { findings: Finding[] }> = []
    for (const [upd, list] of updates) {
      if (list.length < cfg.minAffected) continue
      const updatedIds = new Set(list.map((u) => u.machineId))
      const byKey = new Map<string, Array<{ machineId: string, f: LoggedFinding, changeAt: number, from?: string }>>()
      for (const u of list) {
        const seen = new Set<string>()
        for (const lf of this.machines.get(u.machineId)?.findings ?? []) {
          if (lf.atMs < u.change.atMs || lf.atMs > u.change.atMs + cfg.windowMs || seen.has(lf.key)) continue
          seen.add(lf.key)
          const l = byKey.get(lf.key) ?? []
          l.push({ machineId: u.machineId, f: lf, changeAt: u.change.atMs, from: u.change.from })
          byKey.set(lf.key, l)
        }
      }
      for (const [key, hits] of byKey) {
        const id = `${upd}${SEP}${key}`
        const prev = this.reported.get(id)
        if (hits.length < cfg.minAffected || hits.length / list.length < cfg.minShare) continue
        if (prev !== undefined && prev.affected === hits.length && prev.updated === list.length) continue
        const since = Math.min(...hits.map((h) => h.changeAt))
        let others = 0
        let othersHit = 0
        for (const [mid, m] of this.machines) {
          if (updatedIds.has(mid) || m.apps === null) continue
          others++
          if (m.findings.some((lf) => lf.key === key && lf.atMs >= since)) othersHit++
        }
        if (others > 0 && othersHit / others > cfg.maxOtherShare) continue
        const [app, to] = splitUpdate(upd)
        const change: SuspectedChange = { app, to, affected: hits.length, updated: list.length }
        const from = mostCommon(hits.map((h) => h.from))
        if (from !== undefined) change.from = from
        this.reported.set(id, change)
        // on a recount, re-emit only the machines not linked before
        const linked = new Set(prev === undefined ? [] : this.linked.get(id) ?? [])
        const fresh = hits.filter((h) => !linked.has(h.machineId))
        this.linked.set(id, hits.map((h) => h.machineId))
        out.push({ key, change, machines: hits.map((h) => h.machineId), sinceMs: since, findings: fresh.map((h) => h.f.finding) })
      }
    }
    return out
  }

  exportState (): unknown {
    return { machines: [...this.machines], reported: [...this.reported], linked: [...this.linked] }
  }

  importState (s: unknown): void {
    const st = s as { machines?: Array<[string, MachineChanges]>, reported?: Array<[string, SuspectedChange]>, linked?: Array<[string, string[]]> } | undefined
    this.machines = new Map(st?.machines ?? [])
    this.reported = new Map(st?.reported ?? [])
    this.linked = new Map(st?.linked ?? [])
  }

  private machine (id: string): MachineChanges {
    let m = this.machines.get(id)
    if (m === undefined) { m = { apps: null, changes: [], findings: [] }; this.machines.set(id, m) }
    return m
  }
}

function splitUpdate (u: string): [string, string] {
  const at = u.indexOf(SEP)
  return [u.slice(0, at), u.slice(at + 1)]
}

function mostCommon (a: Array<string | undefined>): string | undefined {
  const counts = new Map<string, number>()
  for (const x of a) if (x !== undefined) counts.set(x, (counts.get(x) ?? 0) + 1)
  let best: string | undefined
  let bestN = 0
  for (const [k, n] of counts) if (n > bestN) { best = k; bestN = n }
  return best
}
