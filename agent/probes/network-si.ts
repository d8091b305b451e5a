/** Network interfaces on macOS and Windows, from systeminformation: throughput and link speed. */
import { si } from './si.js'
import type { Measurement } from '../sample.js'
import { round, type Collect } from './probe.js'
import { IGNORED_IFACE } from './network.js'

export function siNetwork (): Collect {
  return async () => {
    const [stats, ifs] = await Promise.all([(await si()).networkStats('*'), (await si()).networkInterfaces()])
    const metrics: Measurement[] = []
    for (const s of stats) {
      if (IGNORED_IFACE.test(s.iface)) continue
      const labels = { iface: s.iface }
      if (typeof s.rx_sec === 'number' && s.rx_sec >= 0) metrics.push({ name: 'net.rx_bytes_per_sec', unit: 'bytes_per_second', value: round(s.rx_sec), labels })
      if (typeof s.tx_sec === 'number' && s.tx_sec >= 0) metrics.push({ name: 'net.tx_bytes_per_sec', unit: 'bytes_per_second', value: round(s.tx_sec), labels })
    }
    for (const i of Array.isArray(ifs) ? ifs : [ifs]) {
      if (typeof i.speed === 'number' && i.speed > 0 && !IGNORED_IFACE.test(i.iface)) metrics.push({ name: 'net.link_speed_bps', unit: 'bits_per_second', value: i.speed * 1e6, labels: { iface: i.iface } })
    }
    return { metrics }
  }
}
