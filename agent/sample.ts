/**
 * What probes return: the agent's own plain data, with units. Probes know
 * nothing of the wire format; agent/wire.ts alone turns samples into protocol
 * reports (and the compiler checks there that every sample fits the wire).
 */

/** Units a measurement may carry. */
export type Unit =
  | 'percent' | 'bytes' | 'bytes_per_second' | 'count' | 'count_per_second' | 'seconds' | 'celsius'
  | 'hertz' | 'rpm' | 'milliseconds' | 'bits_per_second' | 'dbm' | 'boolean' | 'ratio'

/** One value of one series (`name` plus `labels`) at the collection's time. */
export interface Measurement {
  /** dotted lower-case name, e.g. `fs.used_pct` */
  name: string
  unit: Unit
  value: number
  labels?: Record<string, string>
}

/** A part of a probe that measured nothing this time, and why (absent hardware, no permission, error, timeout). */
export interface NotMeasured {
  /** the probe, or `probe.part` (e.g. `host.serial`) */
  probe: string
  reason: string
}

/** Facts about the machine that change rarely; each probe contributes the ones it knows. */
export interface HostSample {
  hostname?: string
  os?: string
  osVersion?: string
  kernel?: string
  arch?: string
  manufacturer?: string
  model?: string
  serial?: string
  cpuModel?: string
  cpuCores?: number
  memTotalBytes?: number
  /** RFC 3339 */
  bootTime?: string
  /** the first logged-in user, active first */
  user?: string
}

/** One installed application. */
export interface App {
  name: string
  version: string
  /** dpkg, rpm, macos, windows, … */
  source?: string
}

/** The installed software and the count of pending OS updates. */
export interface SoftwareSample {
  apps: App[]
  pendingUpdates?: number
}

/** What one probe run returns. */
export interface Sample {
  metrics: Measurement[]
  /** parts of the probe that are absent here, with why (no battery, no sensors, …) */
  unavailable?: NotMeasured[]
  /** host facts this probe contributes */
  host?: HostSample
  /** software inventory (only the inventory probe sets it) */
  inventory?: SoftwareSample
}
