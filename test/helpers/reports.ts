/** Builds protocol-valid reports from the golden fixture, for tests. */
import fs from 'node:fs'
import path from 'node:path'
import type { MetricValue, Report } from '../../protocol/index.js'

const FIXTURE = path.resolve(import.meta.dirname, '..', 'fixtures', 'protocol', 'report.json')

export function loadFixture<T = unknown> (name: string): T {
  return JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '..', 'fixtures', 'protocol', name), 'utf8')) as T
}

export function makeReport (agentId: string, seq: number, opts: { atMs?: number, /** the agent's clock when it sent the report (default: now) */ clockMs?: number, metrics?: MetricValue[], hostname?: string } = {}): Report {
  const base = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Report
  const at = new Date(opts.atMs ?? Date.now()).toISOString()
  return {
    ...base,
    agentId,
    seq,
    sampledAt: at,
    agentClock: new Date(opts.clockMs ?? Date.now()).toISOString(),
    host: { ...base.host, hostname: opts.hostname ?? base.host.hostname },
    metrics: opts.metrics ?? base.metrics
  }
}
