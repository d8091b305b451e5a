/**
 * A report's metric layout: how the collector remembers the shape of a machine's
 * reports (store, detection client and engine, latest values). The collector's own
 * business, kept out of protocol/: the wire knows nothing of it.
 */
import type { MetricValue, Unit } from '../../protocol/index.js'
import { sameLabels } from '../../protocol/index.js'

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
