import type { MetricValue, Unit } from './v1.js'

/**
 * A series is one metric name plus its labels, e.g. `fs.used_pct{mount="/"}`.
 * The key is canonical (labels sorted) so the same series always has the same key
 * in the agent, the store, the detector and the dashboard.
 */
export function seriesKey (name: string, labels?: Record<string, string>): string {
  if (labels === undefined) return name
  const keys = Object.keys(labels)
  if (keys.length === 0) return name
  keys.sort()
  let out = name + '{'
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    if (i > 0) out += ','
    out += k + '=' + JSON.stringify(labels[k])
  }
  return out + '}'
}

/** Whether two label sets are equal (absent and `{}` are the same set). */
export function sameLabels (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true
  let na = 0
  let nb = 0
  if (a !== undefined) for (const k in a) { na++; if (b === undefined || b[k] !== a[k]) return false }
  if (b !== undefined) for (const _ in b) nb++
  return na === nb
}

/**
 * The names, units and labels of a report's metrics, in order, without their values.
 * Reports of a machine repeat the same layout, so the store, the detection client and
 * the engine keep one per machine and compare it, or its identity, instead of ~50
 * metric objects.
 */
export interface MetricLayout {
  readonly names: readonly string[]
  readonly units: readonly Unit[]
  readonly labels: ReadonlyArray<Record<string, string> | undefined>
}

/** The layout of `metrics` (label sets copied, so later changes to the report do not reach it). */
export function layoutOf (metrics: readonly MetricValue[]): MetricLayout {
  return {
    names: metrics.map(m => m.name),
    units: metrics.map(m => m.unit),
    labels: metrics.map(m => m.labels === undefined ? undefined : { ...m.labels })
  }
}

/** Whether `metrics` have this layout. */
export function sameLayout (layout: MetricLayout, metrics: readonly MetricValue[]): boolean {
  if (layout.names.length !== metrics.length) return false
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i]
    if (layout.names[i] !== m.name || layout.units[i] !== m.unit || !sameLabels(layout.labels[i], m.labels)) return false
  }
  return true
}

/** Inverse of {@link seriesKey}; returns undefined for a malformed key. */
export function parseSeriesKey (key: string): { name: string, labels: Record<string, string> } | undefined {
  const brace = key.indexOf('{')
  if (brace === -1) return /^[a-z][a-z0-9_.]*$/.test(key) ? { name: key, labels: {} } : undefined
  if (!key.endsWith('}')) return undefined
  const name = key.slice(0, brace)
  const labels: Record<string, string> = {}
  const body = key.slice(brace + 1, -1)
  const re = /([a-z][a-z0-9_]*)=("(?:[^"\\]|\\.)*")(,|$)/gy
  let m: RegExpExecArray | null
  let consumed = 0
  while ((m = re.exec(body)) !== null) {
    try { labels[m[1]] = JSON.parse(m[2]) as string } catch { return undefined }
    consumed = re.lastIndex
    if (consumed >= body.length) break
  }
  if (consumed !== body.length) return undefined
  return { name, labels }
}
