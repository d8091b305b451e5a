/** CPU load, total and per core, in percent since the previous collection. */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe } from './probe.js'

export function cpuProbe (): Probe {
  return {
    name: 'cpu',
    timeoutMs: 5000,
    async collect () {
      const load = await si.currentLoad()
      const metrics: MetricValue[] = [{ name: 'cpu.load_pct', unit: 'percent', value: round(load.currentLoad) }]
      load.cpus.forEach((c, i) => {
        metrics.push({ name: 'cpu.core_load_pct', unit: 'percent', value: round(c.load), labels: { core: String(i) } })
      })
      return { metrics }
    }
  }
}
