/** CPU load per core and frequency on macOS and Windows, from systeminformation. */
import { si } from './si.js'
import type { Measurement, Sample } from '../sample.js'
import { round, type Collect, type ProbeOs } from './probe.js'

export function siCpu (os: ProbeOs): Collect {
  return async (): Promise<Sample> => {
    const [load, speed] = await Promise.all([(await si()).currentLoad(), (await si()).cpuCurrentSpeed()])
    const metrics: Measurement[] = [{ name: 'cpu.load_pct', unit: 'percent', value: round(load.currentLoad) }]
    load.cpus.forEach((c, i) => { metrics.push({ name: 'cpu.core_load_pct', unit: 'percent', value: round(c.load), labels: { core: String(i) } }) })
    if (speed.avg > 0) metrics.push({ name: 'cpu.freq_hz', unit: 'hertz', value: Math.round(speed.avg * 1e9) })
    return { metrics, unavailable: [{ probe: 'cpu.throttle', reason: `throttle counters are not read on ${os}` }] }
  }
}
