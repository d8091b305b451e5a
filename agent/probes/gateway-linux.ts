/** The default gateway on Linux: /proc/net/route for the route, /proc/net/arp for the neighbour state. Sends nothing. */
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { readText } from './read-file.js'
import type { Collect, ProbeEnv } from './probe.js'
import { noDefaultRoute } from './gateway.js'

/** The IPv4 default gateway from /proc/net/route (little-endian hex), or undefined. */
export function parseDefaultGateway (text: string): { iface: string, gateway: string } | undefined {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue
    // RTF_UP (1) and RTF_GATEWAY (2)
    if ((parseInt(f[3], 16) & 3) !== 3) continue
    const n = parseInt(f[2], 16)
    return { iface: f[0], gateway: [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.') }
  }
  return undefined
}

/** The kernel's neighbour entry for `ip` in /proc/net/arp: complete (flag 0x2, a link address), incomplete, or none. */
export function arpState (text: string, ip: string): 'complete' | 'incomplete' | 'none' {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f[0] !== ip) continue
    return (parseInt(f[2], 16) & 2) !== 0 && f[3] !== '00:00:00:00:00:00' ? 'complete' : 'incomplete'
  }
  return 'none'
}

/** Whether /proc/net/arp holds a complete (flag 0x2) entry for `ip`. */
export function arpComplete (text: string, ip: string): boolean {
  return arpState(text, ip) === 'complete'
}

export function linuxGateway (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  return async (): Promise<Sample> => {
    const route = parseDefaultGateway((await readText(root, 'proc/net/route')) ?? '')
    if (route === undefined) return noDefaultRoute()
    const { gateway, iface } = route
    const labels = { gateway }
    const metrics: Measurement[] = [{ name: 'net.default_route', unit: 'boolean', value: 1, labels: { gateway, iface } }]
    const unavailable: NotMeasured[] = []
    const state = arpState((await readText(root, 'proc/net/arp')) ?? '', gateway)
    if (state === 'none') unavailable.push({ probe: 'gateway', reason: `no neighbour entry for gateway ${gateway} yet (nothing is sent to find out)` })
    else metrics.push({ name: 'net.gateway_reachable', unit: 'boolean', value: state === 'complete' ? 1 : 0, labels })
    return unavailable.length > 0 ? { metrics, unavailable } : { metrics }
  }
}
