/** Throughput and error rates per network interface (rates need two collections). */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe } from './probe.js'

export interface NetReading {
  iface: string
  rx_sec: number | null
  tx_sec: number | null
  rx_errors: number
  tx_errors: number
  rx_dropped: number
  tx_dropped: number
  ms: number
}

/** Turns two readings into per-second rates; the first collection yields nothing (no baseline). */
export function networkMetrics (now: readonly NetReading[], prev: Map<string, NetReading>, elapsedSec: number): MetricValue[] {
  const out: MetricValue[] = []
  for (const n of now) {
    if (n.iface === 'lo') continue
    const labels = { iface: n.iface }
    const before = prev.get(n.iface)
    if (typeof n.rx_sec === 'number' && n.rx_sec >= 0) out.push({ name: 'net.rx_bytes_per_sec', unit: 'bytes_per_second', value: round(n.rx_sec), labels })
    if (typeof n.tx_sec === 'number' && n.tx_sec >= 0) out.push({ name: 'net.tx_bytes_per_sec', unit: 'bytes_per_second', value: round(n.tx_sec), labels })
    if (before !== undefined && elapsedSec > 0) {
      const rate = (a: number, b: number): number => round(Math.max(0, a - b) / elapsedSec, 4)
      out.push(
        { name: 'net.rx_errors_per_sec', unit: 'count_per_second', value: rate(n.rx_errors, before.rx_errors), labels },
        { name: 'net.tx_errors_per_sec', unit: 'count_per_second', value: rate(n.tx_errors, before.tx_errors), labels },
        { name: 'net.rx_drops_per_sec', unit: 'count_per_second', value: rate(n.rx_dropped, before.rx_dropped), labels },
        { name: 'net.tx_drops_per_sec', unit: 'count_per_second', value: rate(n.tx_dropped, before.tx_dropped), labels }
      )
    }
  }
  return out
}

export function networkProbe (): Probe {
  const prev = new Map<string, NetReading>()
  let prevAt = 0
  return {
    name: 'network',
    timeoutMs: 5000,
    async collect () {
      const stats = await si.networkStats('*')
      const at = Date.now()
      const readings: NetReading[] = stats.map(s => ({ iface: s.iface, rx_sec: s.rx_sec, tx_sec: s.tx_sec, rx_errors: s.rx_errors, tx_errors: s.tx_errors, rx_dropped: s.rx_dropped, tx_dropped: s.tx_dropped, ms: s.ms }))
      const metrics = networkMetrics(readings, prev, prevAt === 0 ? 0 : (at - prevAt) / 1000)
      prev.clear()
      for (const r of readings) prev.set(r.iface, r)
      prevAt = at
      return { metrics }
    }
  }
}
