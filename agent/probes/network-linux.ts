/**
 * Network interfaces on Linux: /proc/net/dev, /sys/class/net/<if>/{speed,
 * operstate}, /proc/net/wireless.
 */
import type { Measurement } from '../sample.js'
import { readLine, readNumber, readText } from './read-file.js'
import { round, type Collect, type ProbeEnv } from './probe.js'
import { IGNORED_IFACE } from './network.js'

export interface NetCounters { rxBytes: number, txBytes: number, rxErrors: number, txErrors: number, rxDrops: number, txDrops: number }

/** Parses /proc/net/dev. */
export function parseNetDev (text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const iface = line.slice(0, colon).trim()
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number)
    if (f.length < 16 || IGNORED_IFACE.test(iface)) continue
    out.set(iface, { rxBytes: f[0], rxErrors: f[2], rxDrops: f[3], txBytes: f[8], txErrors: f[10], txDrops: f[11] })
  }
  return out
}

/** Parses /proc/net/wireless: signal level per interface, dBm. */
export function parseWireless (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s+\S+\s+(-?[\d.]+)\s+(-?[\d.]+)/.exec(line)
    if (m === null) continue
    let level = Number(m[3])
    // Old drivers give an unsigned byte (e.g. 200 = -56 dBm).
    if (level > 0 && level <= 255 && level > 63) level -= 256
    if (Number.isFinite(level) && level < 0) out.set(m[1], level)
  }
  return out
}

/** Rates between two /proc/net/dev readings. */
export function netRateMetrics (prev: Map<string, NetCounters>, now: Map<string, NetCounters>, elapsedSec: number): Measurement[] {
  const out: Measurement[] = []
  if (elapsedSec <= 0) return out
  for (const [iface, c] of now) {
    const p = prev.get(iface)
    if (p === undefined) continue
    const labels = { iface }
    const rate = (a: number, b: number, digits = 2): number => round(Math.max(0, b - a) / elapsedSec, digits)
    out.push(
      { name: 'net.rx_bytes_per_sec', unit: 'bytes_per_second', value: rate(p.rxBytes, c.rxBytes), labels },
      { name: 'net.tx_bytes_per_sec', unit: 'bytes_per_second', value: rate(p.txBytes, c.txBytes), labels },
      { name: 'net.rx_errors_per_sec', unit: 'count_per_second', value: rate(p.rxErrors, c.rxErrors, 4), labels },
      { name: 'net.tx_errors_per_sec', unit: 'count_per_second', value: rate(p.txErrors, c.txErrors, 4), labels },
      { name: 'net.rx_drops_per_sec', unit: 'count_per_second', value: rate(p.rxDrops, c.rxDrops, 4), labels },
      { name: 'net.tx_drops_per_sec', unit: 'count_per_second', value: rate(p.txDrops, c.txDrops, 4), labels }
    )
  }
  return out
}

/** Link state and speed of each interface from /sys/class/net, and Wi-Fi signal. */
export async function linkMetrics (root: string, ifaces: Iterable<string>): Promise<Measurement[]> {
  const out: Measurement[] = []
  const wifi = parseWireless((await readText(root, 'proc/net/wireless')) ?? '')
  for (const iface of ifaces) {
    const labels = { iface }
    const state = await readLine(root, `sys/class/net/${iface}/operstate`)
    if (state !== undefined && state !== 'unknown') out.push({ name: 'net.up', unit: 'boolean', value: state === 'up' ? 1 : 0, labels })
    // speed reads -1 or fails with EINVAL while the link is down, and is absent for Wi-Fi and virtual links.
    const mbps = await readNumber(root, `sys/class/net/${iface}/speed`)
    if (mbps !== undefined && mbps > 0) out.push({ name: 'net.link_speed_bps', unit: 'bits_per_second', value: mbps * 1e6, labels })
    const dbm = wifi.get(iface)
    if (dbm !== undefined) out.push({ name: 'net.wifi_signal_dbm', unit: 'dbm', value: dbm, labels })
  }
  return out
}

export function linuxNetwork (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  let prev: Map<string, NetCounters> | undefined
  let prevAt = 0
  return async () => {
    const text = await readText(root, 'proc/net/dev')
    if (text === undefined) throw new Error('cannot read /proc/net/dev')
    const now = parseNetDev(text)
    const at = performance.now()
    // The first run only sets the baseline: rates start with the next collection.
    const rates = prev === undefined ? [] : netRateMetrics(prev, now, (at - prevAt) / 1000)
    prev = now
    prevAt = at
    return { metrics: [...rates, ...await linkMetrics(root, now.keys())] }
  }
}
