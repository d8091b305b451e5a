/** Shared set-up for incident, KB and webhook tests: an app on a temp data folder with a controllable clock. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../collector/app.js'
import type { CollectorConfig } from '../../../collector/config.js'
import type { Finding } from '../../../collector/detect/engine.js'
import type { IncidentService } from '../../../collector/incidents/service.js'
import type { Report } from '../../../protocol/index.js'

export const T0 = Date.parse('2025-03-03T09:00:00Z')
export const MIN = 60_000
export const DISK_KEY = 'rule:disk_full:fs.used_pct{mount="/"}'

export interface Clock { now: () => number, set: (ms: number) => void, advance: (ms: number) => void }

export function clock (start = T0): Clock {
  let t = start
  return { now: () => t, set: (ms) => { t = ms }, advance: (ms) => { t += ms } }
}

export interface TestApp {
  app: FastifyInstance
  clock: Clock
  dataDir: string
  incidents: IncidentService
  admin: string
  tech: string
  viewer: string
  /** close and build again on the same data folder (a restart) */
  restart: () => Promise<void>
}

interface TapLike { teardown: (fn: () => unknown) => void }

/** An app on a fresh temp folder; closed and removed in teardown. */
export async function testApp (t: TapLike, opts: { config?: Partial<CollectorConfig>, clock?: Clock, dataDir?: string } = {}): Promise<TestApp> {
  const c = opts.clock ?? clock()
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'vigie-inc-'))
  const build = async (): Promise<FastifyInstance> => buildApp({
    config: { dataDir, dashboardsDir: path.join(dataDir, 'none'), incidentTickMs: 600_000, detectTickMs: 3_600_000, ...opts.config },
    logger: false,
    now: c.now,
    env: {}
  })
  const app = await build()
  const reg = app.vigie.registry
  const out: TestApp = {
    app,
    clock: c,
    dataDir,
    incidents: app.vigie.incidents!,
    admin: reg.createApiToken('admin', 'Ada Admin').token,
    tech: reg.createApiToken('technician', 'Tom Tech').token,
    viewer: reg.createApiToken('viewer', 'Vic Viewer').token,
    restart: async () => {
      await out.app.close()
      out.app = await build()
      out.incidents = out.app.vigie.incidents!
    }
  }
  t.teardown(async () => {
    await out.app.close()
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true })
  })
  return out
}

export function finding (f: Partial<Finding> & { machineId: string }): Finding {
  return {
    key: DISK_KEY,
    kind: 'threshold',
    state: 'open',
    severity: 'warning',
    series: 'fs.used_pct{mount="/"}',
    atMs: T0,
    title: 'Disk / is 92% full',
    evidence: { value: 92, limit: 90 },
    ...f
  }
}

export function clear (f: Partial<Finding> & { machineId: string }): Finding {
  return finding({ state: 'clear', title: 'Disk / is 80% full (back to normal)', ...f })
}

/** A valid v1 report of `agentId` with the given metrics. */
export function report (agentId: string, seq: number, atMs: number, metrics: Report['metrics'], hostname = 'pc-' + agentId.slice(-4)): Report {
  return {
    v: 1,
    agentId,
    seq,
    sampledAt: new Date(atMs).toISOString(),
    agentClock: new Date(atMs).toISOString(),
    host: { hostname, os: 'Linux', osVersion: 'Debian 12', kernel: '6.1', arch: 'x64', agentVersion: '0.1.0' },
    metrics,
    unavailable: []
  }
}

export const auth = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` })
