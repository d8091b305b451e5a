/** CPU temperature when the hardware exposes sensors; explicitly unavailable otherwise (never a fake 0). */
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe, type ProbeResult } from './probe.js'

export interface TempReading { main: number | null, max: number | null, cores: number[] }

export function temperatureResult (t: TempReading): ProbeResult {
  const valid = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v > -50 && v < 150 && v !== 0
  const metrics: MetricValue[] = []
  if (valid(t.main)) metrics.push({ name: 'temp.cpu_c', unit: 'celsius', value: round(t.main, 1) })
  if (valid(t.max)) metrics.push({ name: 'temp.cpu_max_c', unit: 'celsius', value: round(t.max, 1) })
  t.cores.forEach((c, i) => { if (valid(c)) metrics.push({ name: 'temp.core_c', unit: 'celsius', value: round(c, 1), labels: { core: String(i) } }) })
  if (metrics.length === 0) return { metrics, unavailable: [{ probe: 'temperatures', reason: 'no temperature sensors exposed by this machine' }] }
  return { metrics }
}

export function temperaturesProbe (): Probe {
  return {
    name: 'temperatures',
    timeoutMs: 5000,
    async collect () {
      const t = await si.cpuTemperature()
      return temperatureResult({ main: t.main, max: t.max, cores: t.cores ?? [] })
    }
  }
}
