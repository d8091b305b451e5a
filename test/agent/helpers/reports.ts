/** Deterministic reports for spool tests: the content is a function of the seq, so a reader can check it. */
import type { Report } from '../../../protocol/index.js'

export function fakeReport (seq: number, metrics = 10, sampledMs = Date.parse('2026-01-01T00:00:00Z') + seq * 1000): Report {
  return {
    v: 1,
    agentId: 'm_test',
    seq,
    sampledAt: new Date(sampledMs).toISOString(),
    agentClock: new Date(sampledMs).toISOString(),
    host: { hostname: 'h', os: 'linux', osVersion: '', kernel: '', arch: 'x64', agentVersion: 'test' },
    metrics: Array.from({ length: metrics }, (_, i) => ({ name: 'test.value', unit: 'count' as const, value: seq * 10_000 + i, labels: { i: String(i) } })),
    unavailable: []
  }
}

/** True when `r` is exactly what fakeReport(seq) wrote. */
export function intact (r: Report, seq: number, metrics: number): boolean {
  return r.seq === seq && r.metrics.length === metrics && r.metrics.every((m, i) => m.value === seq * 10_000 + i)
}
