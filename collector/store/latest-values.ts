/**
 * A machine's latest metric values, kept compactly in memory: the layout (names,
 * units, labels) shared with the previous report when it is the same, and the
 * values in a Float64Array.
 *
 * Why: holding each report's own metric objects until the machine's next report
 * kept ~50 small objects per machine alive across garbage collections, which
 * promoted them to the old generation; at high ingest rates that was most of the
 * collector's GC time. With this, a report's objects die young and only a few
 * hundred bytes of values outlive it.
 */
import type { MetricValue } from '../../protocol/index.js'
import { layoutOf, sameLayout, type MetricLayout } from './metric-layout.js'

export class LatestValues {
  readonly #layout: MetricLayout
  readonly #values: Float64Array

  private constructor (layout: MetricLayout, values: Float64Array) {
    this.#layout = layout
    this.#values = values
  }

  /** The values of `metrics`, sharing `prev`'s layout when it is the same. */
  static of (metrics: readonly MetricValue[], prev?: LatestValues): LatestValues {
    const n = metrics.length
    const values = new Float64Array(n)
    for (let i = 0; i < n; i++) values[i] = metrics[i].value
    const last = prev === undefined ? undefined : prev.#layout
    return new LatestValues(last !== undefined && sameLayout(last, metrics) ? last : layoutOf(metrics), values)
  }

  get length (): number { return this.#values.length }

  /**
   * Identifies the layout (names, units, labels): the same object for consecutive
   * reports of a machine whose metrics have the same layout, so a reader can tell
   * "same layout as before" without comparing the metrics.
   */
  get layoutKey (): object { return this.#layout }

  /** The values as protocol metrics (new objects each call). */
  toArray (): MetricValue[] {
    const { names, units, labels } = this.#layout
    const out: MetricValue[] = new Array(this.#values.length)
    for (let i = 0; i < out.length; i++) {
      const l = labels[i]
      out[i] = l === undefined ? { name: names[i], unit: units[i], value: this.#values[i] } : { name: names[i], unit: units[i], value: this.#values[i], labels: { ...l } }
    }
    return out
  }

  /** The first value of a metric, or, with `max`, the largest of its series. */
  pick (name: string, mode: 'first' | 'max' = 'first'): number | undefined {
    const names = this.#layout.names
    let out: number | undefined
    for (let i = 0; i < names.length; i++) {
      if (names[i] !== name) continue
      const v = this.#values[i]
      if (mode === 'first') return v
      out = out === undefined ? v : Math.max(out, v)
    }
    return out
  }
}
