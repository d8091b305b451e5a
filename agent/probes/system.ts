/** Uptime, load average and process count. */
import os from 'node:os'
import fs from 'node:fs/promises'
import si from 'systeminformation'
import type { MetricValue } from '../../protocol/index.js'
import { round, type Probe } from './probe.js'

async function processCount (): Promise<number> {
  if (process.platform === 'linux') {
    // Counting /proc entries costs nothing; `ps` would spawn a process.
    const entries = await fs.readdir('/proc')
    return entries.filter(e => e.charCodeAt(0) >= 48 && e.charCodeAt(0) <= 57).length
  }
  return (await si.processes()).all
}

export function systemProbe (): Probe {
  return {
    name: 'system',
    timeoutMs: 5000,
    async collect () {
      const [l1, l5, l15] = os.loadavg()
      const uptime = os.uptime()
      const metrics: MetricValue[] = [
        { name: 'system.uptime_s', unit: 'seconds', value: Math.round(uptime) },
        { name: 'system.process_count', unit: 'count', value: await processCount() }
      ]
      if (process.platform !== 'win32') {
        metrics.push(
          { name: 'load.avg1', unit: 'count', value: round(l1) },
          { name: 'load.avg5', unit: 'count', value: round(l5) },
          { name: 'load.avg15', unit: 'count', value: round(l15) }
        )
      }
      return { metrics, host: { bootTime: new Date(Date.now() - uptime * 1000).toISOString().replace(/\.\d+Z$/, '.000Z') } }
    }
  }
}
