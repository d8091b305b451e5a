/**
 * The detection engine, run in a worker thread, as the collector sees it.
 *
 * Why a thread: detection is pure CPU work on every point of every report (~25 µs
 * per report), as much as storing it. In the collector's thread it capped ingest;
 * in its own thread it uses the second core and the request path only packs each
 * report's values into a Float64Array (its metric names, labels and units — the
 * "layout" — are sent again only when they change, which is rare: agents send the
 * same metrics in the same order).
 *
 * Findings come back as messages, a moment after the report was acknowledged;
 * `idle()` resolves once everything sent so far has been observed and its
 * findings delivered. If detection falls more than `maxBacklog` reports behind,
 * further reports skip detection (counted) rather than queueing without bound:
 * storing them is never affected. A worker that dies is restarted from the last
 * saved state (`onRestart`).
 */
import { Worker } from 'node:worker_threads'
import type { HostFacts, InstalledApp, MetricValue, Report } from '../../protocol/index.js'
import type { Finding } from './engine.js'
import { layoutOf, sameLayout, type MetricLayout } from '../store/metric-layout.js'
import type { LatestValues } from '../store/latest-values.js'

export interface HostInput { group?: string, model?: string, osVersion?: string, memTotalBytes?: number }

/**
 * The reports of one event-loop turn, packed so the copy to the worker is a few
 * typed arrays: report i is `machines[i]`, sampled at `atMs[i]`, with values
 * `values[offsets[i] .. offsets[i + 1])`. Layouts, host facts and inventories
 * only appear for the reports whose machine changed them.
 */
export interface ReportBatchInput {
  machines: string[]
  receivedMs: Float64Array
  atMs: Float64Array
  offsets: Uint32Array
  values: Float64Array
  layouts: Array<[number, MetricLayout]>
  hosts: Array<[number, HostInput]>
  apps: Array<[number, InstalledApp[]]>
}

export type WorkerIn =
  | { type: 'reports', batch: ReportBatchInput }
  | { type: 'tick', nowMs: number }
  | { type: 'import', machines: Array<[string, string]>, global?: string, nowMs: number }
  | { type: 'export', id: number, machines: string[], global: boolean }
  | { type: 'sync', id: number }

export type WorkerOut =
  | { type: 'ready' }
  | { type: 'findings', findings: Finding[] }
  | { type: 'done', reports: number }
  | { type: 'silence', entries: Array<[string, boolean]> }
  | { type: 'reply', id: number, value: unknown }
  | { type: 'warn', message: string, machineId?: string }

export interface DetectionClientOptions {
  maxSeriesPerMachine: number
  /** reports sent but not yet observed beyond which detection is skipped (default 200,000) */
  maxBacklog?: number
  onFindings: (findings: Finding[]) => void
  onWarn: (message: string, machineId?: string) => void
  /** reports that skipped detection because it was too far behind */
  onSkipped?: (n: number) => void
  /** the worker died and was started again: send it the saved state */
  onRestart?: () => void
}

/** The layout the worker has for a machine; `key`: the registry's layout identity (LatestValues.layoutKey) it was last seen with, if any. */
interface LastLayout { layout: MetricLayout, key: object | undefined }

/**
 * Reports are handed to the engine every this many ms, or as soon as this many are
 * waiting. Each hand-over wakes the engine's thread, which then competes with the
 * request path for the cores: at 10 ms the collector's ingest benchmark ran ~15 %
 * slower than at 50 ms (the engine also spends half as much per report on bigger
 * batches). Findings are at most this much later; nobody notices 50 ms.
 */
const SEND_EVERY_MS = 50
const SEND_MAX_REPORTS = 2000

const BOOT = new URL('./worker-boot.mjs', import.meta.url)
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url)

export class DetectionClient {
  readonly #opts: DetectionClientOptions
  readonly #maxBacklog: number
  #worker!: Worker
  // The reports waiting to be handed over, packed as they come (see ReportBatchInput).
  // Typed arrays, reused from one hand-over to the next: values kept ~50 ms in plain
  // arrays outlived young-generation collections and were promoted and copied.
  #machines: string[] = []
  #received = new Float64Array(1024)
  #at = new Float64Array(1024)
  #offsets = new Uint32Array(1025)
  #values = new Float64Array(65_536)
  #nValues = 0
  #changedLayouts: Array<[number, MetricLayout]> = []
  #changedHosts: Array<[number, HostInput]> = []
  #apps: Array<[number, InstalledApp[]]> = []
  #hosts = new Map<string, HostInput>()
  #scheduled: NodeJS.Timeout | undefined
  #backlog = 0
  #nextId = 1
  readonly #waiting = new Map<number, (v: unknown) => void>()
  /** what each machine's worker-side layout is, so it is sent only when it changes */
  #layouts = new Map<string, LastLayout>()
  #silence = new Map<string, boolean>()
  #closed = false

  constructor (opts: DetectionClientOptions) {
    this.#opts = opts
    this.#maxBacklog = opts.maxBacklog ?? 200_000
    this.#start()
  }

  #start (): void {
    this.#worker = new Worker(BOOT, { workerData: { entry: ENTRY.href, maxSeriesPerMachine: this.#opts.maxSeriesPerMachine } })
    this.#worker.unref()
    this.#worker.on('message', (msg: WorkerOut) => { this.#onMessage(msg) })
    this.#worker.on('error', (err) => { this.#opts.onWarn(`detection worker failed: ${err.message}`) })
    this.#worker.on('exit', () => {
      if (this.#closed) return
      // Whatever was in flight is lost to detection (not to storage): start again from the saved state.
      this.#backlog = 0
      this.#layouts = new Map()
      this.#hosts = new Map()
      for (const resolve of this.#waiting.values()) resolve(undefined)
      this.#waiting.clear()
      this.#start()
      this.#opts.onRestart?.()
    })
  }

  #onMessage (msg: WorkerOut): void {
    switch (msg.type) {
      case 'findings': this.#opts.onFindings(msg.findings); return
      case 'done': this.#backlog -= msg.reports; return
      case 'silence': this.#silence = new Map(msg.entries); return
      case 'warn': this.#opts.onWarn(msg.message, msg.machineId); return
      case 'reply': {
        const resolve = this.#waiting.get(msg.id)
        this.#waiting.delete(msg.id)
        resolve?.(msg.value)
      }
    }
  }

  /** Queues the stored reports of one machine for detection (sent once per event-loop turn). */
  observe (machineId: string, receivedMs: number, accepted: ReadonlyArray<{ report: Report, atMs: number, latest?: LatestValues }>): void {
    if (this.#closed) return
    if (this.#backlog >= this.#maxBacklog) {
      this.#opts.onSkipped?.(accepted.length)
      return
    }
    for (const { report, atMs, latest } of accepted) {
      const i = this.#machines.length
      const metrics = report.metrics
      this.#reserve(i + 1, this.#nValues + metrics.length)
      this.#machines.push(machineId)
      this.#received[i] = receivedMs
      this.#at[i] = atMs
      const values = this.#values
      let n = this.#nValues
      for (let k = 0; k < metrics.length; k++) values[n++] = metrics[k].value
      this.#nValues = n
      this.#offsets[i + 1] = n
      const layout = this.#layoutChange(machineId, metrics, latest?.layoutKey)
      if (layout !== undefined) this.#changedLayouts.push([i, layout])
      const h: HostFacts = report.host
      const last = this.#hosts.get(machineId)
      if (last === undefined || last.group !== h.group || last.model !== h.model || last.osVersion !== h.osVersion || last.memTotalBytes !== h.memTotalBytes) {
        const host = { group: h.group, model: h.model, osVersion: h.osVersion, memTotalBytes: h.memTotalBytes }
        this.#hosts.set(machineId, host)
        this.#changedHosts.push([i, host])
      }
      if (report.inventory?.apps !== undefined) this.#apps.push([i, report.inventory.apps])
    }
    this.#backlog += accepted.length
    // One message every few milliseconds: each postMessage costs tens of microseconds
    // whatever its size, so reports are handed over in batches (detection can wait).
    if (this.#machines.length >= SEND_MAX_REPORTS) this.#flush()
    else if (this.#scheduled === undefined) this.#scheduled = setTimeout(() => { this.#flush() }, SEND_EVERY_MS)
  }

  /**
   * The metrics' layout if it differs from the one the worker has for this machine.
   * `key`: the registry's layout identity for these metrics, when it has one; the
   * same key as last time means the same layout, without comparing ~50 metrics.
   */
  #layoutChange (machineId: string, metrics: readonly MetricValue[], key: object | undefined): MetricLayout | undefined {
    const last = this.#layouts.get(machineId)
    if (last !== undefined && key !== undefined && last.key === key) return undefined
    if (last !== undefined && sameLayout(last.layout, metrics)) {
      last.key = key
      return undefined
    }
    const layout = layoutOf(metrics)
    this.#layouts.set(machineId, { layout, key })
    return layout
  }

  /** Grows the packed arrays to hold `reports` reports and `values` values. */
  #reserve (reports: number, values: number): void {
    if (reports > this.#received.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, size: number): T => {
        const b = new (a.constructor as new (n: number) => T)(size)
        b.set(a)
        return b
      }
      const size = Math.max(reports, 2 * this.#received.length)
      this.#received = grow(this.#received, size)
      this.#at = grow(this.#at, size)
      this.#offsets = grow(this.#offsets, size + 1)
    }
    if (values > this.#values.length) {
      const b = new Float64Array(Math.max(values, 2 * this.#values.length))
      b.set(this.#values.subarray(0, this.#nValues))
      this.#values = b
    }
  }

  #flush (): void {
    if (this.#scheduled !== undefined) { clearTimeout(this.#scheduled); this.#scheduled = undefined }
    const count = this.#machines.length
    if (count === 0) return
    // Copies of the used part, moved (not copied again) to the worker.
    const batch: ReportBatchInput = {
      machines: this.#machines,
      receivedMs: this.#received.slice(0, count),
      atMs: this.#at.slice(0, count),
      offsets: this.#offsets.slice(0, count + 1),
      values: this.#values.slice(0, this.#nValues),
      layouts: this.#changedLayouts,
      hosts: this.#changedHosts,
      apps: this.#apps
    }
    this.#machines = []
    this.#nValues = 0
    this.#changedLayouts = []
    this.#changedHosts = []
    this.#apps = []
    this.#post({ type: 'reports', batch }, [batch.receivedMs.buffer, batch.atMs.buffer, batch.offsets.buffer, batch.values.buffer] as ArrayBuffer[])
  }

  #post (msg: WorkerIn, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(msg, transfer)
  }

  #ask<T> (make: (id: number) => WorkerIn): Promise<T> {
    this.#flush()
    const id = this.#nextId++
    return new Promise<T>((resolve) => {
      this.#waiting.set(id, resolve as (v: unknown) => void)
      this.#post(make(id))
    })
  }

  tick (nowMs: number): void {
    this.#flush()
    this.#post({ type: 'tick', nowMs })
  }

  /** Restores saved state (JSON text per machine, as written by `exportMachines`). */
  importState (machines: Array<[string, string]>, global: string | undefined, nowMs: number): void {
    for (const [id] of machines) { this.#layouts.delete(id); this.#hosts.delete(id) }
    this.#post({ type: 'import', machines, global, nowMs })
  }

  /** Each machine's state as JSON text, and the fleet-wide state if asked. */
  async exportMachines (ids: string[], global = false): Promise<{ machines: Array<[string, string]>, global?: string }> {
    const r = await this.#ask<{ machines: Array<[string, string]>, global?: string } | undefined>((id) => ({ type: 'export', id, machines: ids, global }))
    return r ?? { machines: [] }
  }

  /** One machine's state, parsed (for tests and diagnostics). */
  async exportMachine (machineId: string): Promise<unknown> {
    const r = await this.exportMachines([machineId])
    return r.machines[0] === undefined ? undefined : JSON.parse(r.machines[0][1])
  }

  /** Number of series with state. */
  async seriesCount (): Promise<number> {
    return Number(await this.#ask<number | undefined>((id) => ({ type: 'sync', id })) ?? 0)
  }

  /** Resolves once every report sent so far has been observed and its findings handed over. */
  async idle (): Promise<void> {
    await this.#ask((id) => ({ type: 'sync', id }))
  }

  /** Reports handed over (or waiting to be) and not yet observed by the engine. */
  get backlog (): number { return this.#backlog }

  /** From the last tick: whether this machine being silent now is its habit (see DetectionEngine.silenceExpected). */
  silenceExpected (machineId: string): boolean | undefined {
    return this.#silence.get(machineId)
  }

  async close (): Promise<void> {
    if (this.#closed) return
    await this.idle()
    this.#closed = true
    await this.#worker.terminate()
  }
}
