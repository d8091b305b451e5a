/**
 * The rolling z-score reference detector (the same rule as shared/tools'
 * nab-baselines.mjs --detector zscore, defaults): for row i, mean and population
 * standard deviation of the previous `window` values; alert when |z| > `z`, after
 * `minHistory` rows and outside the NAB probation. Only the benchmarks use it, as
 * the baseline our figures are printed against.
 */
export function rollingZscoreAlerts (values: ArrayLike<number>, { window = 288, z = 4, minHistory = 30, probationRows = 0 } = {}): Uint8Array {
  const n = values.length
  const alerts = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - window)
    const h = i - lo
    if (h < Math.max(2, minHistory) || i < probationRows) continue
    let mean = 0
    for (let j = lo; j < i; j++) mean += values[j]
    mean /= h
    let v = 0
    for (let j = lo; j < i; j++) v += (values[j] - mean) ** 2
    const std = Math.sqrt(v / h)
    const dev = Math.abs(values[i] - mean)
    const score = std > 1e-12 * Math.max(1, Math.abs(mean)) ? dev / std : dev > 0 ? Infinity : 0
    if (score > z) alerts[i] = 1
  }
  return alerts
}
