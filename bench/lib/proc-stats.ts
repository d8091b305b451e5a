/**
 * CPU and memory of a process from /proc (Linux): CPU time from /proc/PID/stat
 * (utime + stime, in clock ticks), resident memory from /proc/PID/status (VmRSS).
 */
import fs from 'node:fs'

const TICKS_PER_SEC = 100 // USER_HZ on Linux

export interface ProcSample { atMs: number, cpuSec: number, rssBytes: number }

export function readProc (pid: number): ProcSample {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return { atMs: Date.now(), cpuSec: (utime + stime) / TICKS_PER_SEC, rssBytes: m === null ? 0 : Number(m[1]) * 1024 }
}

/** Samples a process every `everyMs` until stopped; summarises CPU (% of one core) and RSS. */
export class ProcSampler {
  readonly #pid: number
  readonly #samples: ProcSample[] = []
  #timer: NodeJS.Timeout | undefined

  constructor (pid: number, everyMs = 1000) {
    this.#pid = pid
    this.#samples.push(readProc(pid))
    this.#timer = setInterval(() => { try { this.#samples.push(readProc(this.#pid)) } catch { /* gone */ } }, everyMs)
    this.#timer.unref()
  }

  /** Marks a point to measure from (returns its index). */
  mark (): number {
    this.#samples.push(readProc(this.#pid))
    return this.#samples.length - 1
  }

  /** CPU % of one core, peak and last RSS since mark `from` (default: start). */
  summary (from = 0): { cpuPct: number, cpuSec: number, seconds: number, peakRssBytes: number, lastRssBytes: number } {
    let last: ProcSample
    try { last = readProc(this.#pid); this.#samples.push(last) } catch { last = this.#samples[this.#samples.length - 1] }
    const first = this.#samples[from]
    const seconds = (last.atMs - first.atMs) / 1000
    let peak = 0
    for (let i = from; i < this.#samples.length; i++) peak = Math.max(peak, this.#samples[i].rssBytes)
    return { cpuPct: seconds > 0 ? 100 * (last.cpuSec - first.cpuSec) / seconds : 0, cpuSec: last.cpuSec - first.cpuSec, seconds, peakRssBytes: peak, lastRssBytes: last.rssBytes }
  }

  stop (): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }
}
