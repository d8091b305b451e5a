/** Memory and swap on Linux, from /proc/meminfo. */
import { readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { memorySample, type MemReading } from './memory.js'

/** Parses /proc/meminfo (values in kB) into bytes. */
export function parseMeminfo (text: string): MemReading {
  const kv = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line)
    if (m !== null) kv.set(m[1], Number(m[2]) * 1024)
  }
  const total = kv.get('MemTotal') ?? 0
  // Kernels before 3.14 have no MemAvailable; free + page cache is the usual estimate.
  const available = kv.get('MemAvailable') ?? ((kv.get('MemFree') ?? 0) + (kv.get('Buffers') ?? 0) + (kv.get('Cached') ?? 0))
  return { total, available, swapTotal: kv.get('SwapTotal') ?? 0, swapFree: kv.get('SwapFree') ?? 0 }
}

export function linuxMemory (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async () => {
    const text = await readText(root, 'proc/meminfo')
    if (text === undefined) throw new Error('cannot read /proc/meminfo')
    return memorySample(parseMeminfo(text))
  }
}
