/** Small numeric helpers for benchmark output. */

export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[i]
}

export const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1) + ' MiB'
export const fixed = (n: number, d = 1): string => Number.isFinite(n) ? n.toFixed(d) : String(n)

/** Prints a titled block of `key: value` lines. */
export function printBlock (title: string, rows: Array<[string, string | number]>): void {
  const w = Math.max(...rows.map(r => r[0].length))
  process.stdout.write(`\n${title}\n` + rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') + '\n')
}

export function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
