/**
 * Explicit, operator-configured reachability checks (`--check-tcp host:port,…`):
 * off by default, so the agent opens no connection but the one to its collector
 * unless told to. Each target is tried with a TCP connection bounded by its
 * timeout; the connection is closed as soon as it is established (nothing is
 * written to it).
 */
import net from 'node:net'
import type { Measurement } from '../sample.js'
import { round, type Probe } from './probe.js'

export interface TcpTarget { host: string, port: number }

/** Most targets one agent may check. */
export const MAX_TCP_CHECKS = 16

/** Parses `host:port,[v6::addr]:port`; throws naming what was wrong. */
export function parseTcpTargets (raw: string): TcpTarget[] {
  const out: TcpTarget[] = []
  for (const part of raw.split(',').map(p => p.trim()).filter(p => p !== '')) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(part)
    const port = m === null ? NaN : Number(m[3])
    if (m === null || port < 1 || port > 65535) throw new Error(`expected host:port (port 1 to 65535), comma-separated (got '${part}')`)
    out.push({ host: m[1] ?? m[2], port })
  }
  if (out.length > MAX_TCP_CHECKS) throw new Error(`at most ${MAX_TCP_CHECKS} targets (got ${out.length})`)
  return out
}

/** Tries a TCP connection; resolves with the connect time in ms, or undefined when it did not connect in time. */
export function tcpConnectMs (host: string, port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise(resolve => {
    const started = performance.now()
    const s = net.connect({ host, port })
    let settled = false
    const done = (ok: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(t)
      s.destroy()
      resolve(ok ? performance.now() - started : undefined)
    }
    const t = setTimeout(() => { done(false) }, timeoutMs)
    s.once('connect', () => { done(true) })
    s.on('error', () => { done(false) })
  })
}

const label = (t: TcpTarget): string => t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`

/** `net.tcp_check_ok{target}` (1/0) and, when it connected, `net.tcp_check_ms{target}`. */
export function tcpCheckProbe (targets: TcpTarget[], timeoutMs: number): Probe {
  return {
    name: 'tcp_check',
    timeoutMs: timeoutMs + 1000,
    everySec: 60,
    async collect () {
      const metrics: Measurement[] = []
      await Promise.all(targets.map(async t => {
        const ms = await tcpConnectMs(t.host, t.port, timeoutMs)
        const labels = { target: label(t) }
        metrics.push({ name: 'net.tcp_check_ok', unit: 'boolean', value: ms !== undefined ? 1 : 0, labels })
        if (ms !== undefined) metrics.push({ name: 'net.tcp_check_ms', unit: 'milliseconds', value: round(ms, 2), labels })
      }))
      metrics.sort((a, b) => (a.labels?.target ?? '').localeCompare(b.labels?.target ?? '') || a.name.localeCompare(b.name))
      return { metrics }
    }
  }
}
