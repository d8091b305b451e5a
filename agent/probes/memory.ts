/** Memory and swap use, in bytes and percent. */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe } from './probe.js'

export function memoryProbe (): Probe {
  return {
    name: 'memory',
    timeoutMs: 3000,
    async collect () {
      const m = await si.mem()
      // "used" excludes page cache and buffers: what a user would call used memory.
      const used = m.total - m.available
      const metrics: MetricValue[] = [
        { name: 'mem.total_bytes', unit: 'bytes', value: m.total },
        { name: 'mem.used_bytes', unit: 'bytes', value: used },
        { name: 'mem.available_bytes', unit: 'bytes', value: m.available },
        { name: 'mem.used_pct', unit: 'percent', value: m.total > 0 ? round(100 * used / m.total) : 0 },
        { name: 'swap.total_bytes', unit: 'bytes', value: m.swaptotal },
        { name: 'swap.used_bytes', unit: 'bytes', value: m.swapused }
      ]
      if (m.swaptotal > 0) metrics.push({ name: 'swap.used_pct', unit: 'percent', value: round(100 * m.swapused / m.swaptotal) })
      return { metrics, host: { memTotalBytes: m.total } }
    }
  }
}
