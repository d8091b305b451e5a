/** Processes on macOS and Windows, from systeminformation (`ps`, WMI), which gives CPU percent itself. */
import { si } from './si.js'
import { round, type Collect } from './probe.js'
import { topProcessMetrics, type ProcSample } from './processes.js'

export function siProcesses (n = 5): Collect {
  return async () => {
    const list = (await (await si()).processes()).list
    const samples: ProcSample[] = list.map(p => ({ pid: p.pid, name: p.name, cpuTicks: 0, rssBytes: p.memRss * 1024 }))
    const metrics = topProcessMetrics(undefined, samples, 0, n)
    const cpu = new Map<string, number>()
    for (const p of list) cpu.set(p.name, (cpu.get(p.name) ?? 0) + p.cpu)
    for (const [name, v] of [...cpu].sort((a, b) => b[1] - a[1]).slice(0, n)) metrics.push({ name: 'proc.cpu_pct', unit: 'percent', value: round(v, 1), labels: { name: name.slice(0, 128) } })
    return { metrics }
  }
}
