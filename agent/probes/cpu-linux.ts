/**
 * CPU load (total, per core, iowait), frequency and thermal throttling on
 * Linux: /proc/stat deltas, /sys/devices/system/cpu/cpu*\/cpufreq and
 * thermal_throttle (no process spawned). macOS and Windows: cpu-si.ts.
 */
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { listDir, readNumber, readText } from './read-file.js'
import { round, type Collect, type ProbeEnv } from './probe.js'

/** Jiffies of one /proc/stat cpu line. */
export interface CpuTimes { busy: number, iowait: number, total: number }
export interface ProcStat { total: CpuTimes, cores: CpuTimes[], bootTimeSec?: number }

/** Parses /proc/stat: aggregate and per-core times, and `btime` (boot, epoch seconds). */
export function parseProcStat (text: string): ProcStat {
  let total: CpuTimes = { busy: 0, iowait: 0, total: 0 }
  const cores: CpuTimes[] = []
  let bootTimeSec: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu')) {
      const parts = line.trim().split(/\s+/)
      // user nice system idle iowait irq softirq steal [guest guest_nice]; guest is already in user.
      const v = parts.slice(1, 9).map(Number)
      while (v.length < 8) v.push(0)
      const [user, nice, system, idle, iowait, irq, softirq, steal] = v
      const t: CpuTimes = { busy: user + nice + system + irq + softirq + steal, iowait, total: user + nice + system + idle + iowait + irq + softirq + steal }
      if (parts[0] === 'cpu') total = t
      else cores[Number(parts[0].slice(3))] = t
    } else if (line.startsWith('btime ')) {
      bootTimeSec = Number(line.slice(6))
    }
  }
  return { total, cores: cores.filter(c => c !== undefined), ...(bootTimeSec !== undefined ? { bootTimeSec } : {}) }
}

/** Load between two /proc/stat readings, percent. */
export function cpuLoadMetrics (prev: ProcStat, now: ProcStat): Measurement[] {
  const pct = (a: CpuTimes, b: CpuTimes, key: 'busy' | 'iowait'): number => {
    const dt = b.total - a.total
    return dt > 0 ? round(Math.min(100, Math.max(0, 100 * (b[key] - a[key]) / dt))) : 0
  }
  const out: Measurement[] = [
    { name: 'cpu.load_pct', unit: 'percent', value: pct(prev.total, now.total, 'busy') },
    { name: 'cpu.iowait_pct', unit: 'percent', value: pct(prev.total, now.total, 'iowait') }
  ]
  now.cores.forEach((c, i) => {
    const p = prev.cores[i]
    if (p !== undefined) out.push({ name: 'cpu.core_load_pct', unit: 'percent', value: pct(p, c, 'busy'), labels: { core: String(i) } })
  })
  return out
}

/** Frequency and throttle counters from sysfs (and /proc/cpuinfo as a fallback for frequency). */
export async function readCpuFreq (root: string): Promise<{ metrics: Measurement[], unavailable: NotMeasured[] }> {
  const metrics: Measurement[] = []
  const unavailable: NotMeasured[] = []
  const cpus = (await listDir(root, 'sys/devices/system/cpu')).filter(d => /^cpu\d+$/.test(d))
  const cur: number[] = []
  let maxKHz: number | undefined
  let throttle: number | undefined
  for (const cpu of cpus) {
    const base = `sys/devices/system/cpu/${cpu}`
    const f = await readNumber(root, `${base}/cpufreq/scaling_cur_freq`)
    if (f !== undefined) cur.push(f)
    maxKHz ??= await readNumber(root, `${base}/cpufreq/cpuinfo_max_freq`)
    const t = await readNumber(root, `${base}/thermal_throttle/core_throttle_count`)
    if (t !== undefined) throttle = (throttle ?? 0) + t
  }
  if (cur.length > 0) {
    metrics.push({ name: 'cpu.freq_hz', unit: 'hertz', value: Math.round(1000 * cur.reduce((a, b) => a + b, 0) / cur.length) })
    if (maxKHz !== undefined && maxKHz > 0) metrics.push({ name: 'cpu.freq_max_hz', unit: 'hertz', value: maxKHz * 1000 })
  } else {
    // VMs have no cpufreq; /proc/cpuinfo still states the nominal clock.
    const info = await readText(root, 'proc/cpuinfo')
    const mhz = [...(info ?? '').matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map(m => Number(m[1]))
    if (mhz.length > 0) metrics.push({ name: 'cpu.freq_hz', unit: 'hertz', value: Math.round(1e6 * mhz.reduce((a, b) => a + b, 0) / mhz.length) })
    else unavailable.push({ probe: 'cpu.freq', reason: 'no cpufreq in /sys and no MHz in /proc/cpuinfo' })
  }
  if (throttle !== undefined) metrics.push({ name: 'cpu.throttle_count', unit: 'count', value: throttle })
  else unavailable.push({ probe: 'cpu.throttle', reason: 'no thermal_throttle counters in /sys (not an Intel CPU, or a virtual machine)' })
  return { metrics, unavailable }
}

export function linuxCpu (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  let prev: ProcStat | undefined
  return async (): Promise<Sample> => {
    const read = async (): Promise<ProcStat> => {
      const text = await readText(root, 'proc/stat')
      if (text === undefined) throw new Error('cannot read /proc/stat')
      return parseProcStat(text)
    }
    if (prev === undefined) {
      // First run: take a short baseline rather than report a since-boot average.
      prev = await read()
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    const now = await read()
    const metrics = cpuLoadMetrics(prev, now)
    prev = now
    const freq = await readCpuFreq(root)
    return { metrics: [...metrics, ...freq.metrics], unavailable: freq.unavailable }
  }
}
