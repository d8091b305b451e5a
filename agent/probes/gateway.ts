/**
 * Default gateway, passively: what the OS already knows, and nothing sent. On
 * Linux the IPv4 default route comes from /proc/net/route and the gateway's
 * neighbour (ARP) state from /proc/net/arp: a complete entry means the kernel
 * resolved the gateway's link address recently (it answered), an entry in the
 * failed/incomplete state means it did not. No entry at all says nothing either
 * way and is reported as unavailable, not as "unreachable". On macOS and Windows
 * systeminformation reads the routing table (`route`/`netstat`, no packets); the
 * neighbour state is not read there.
 *
 * An active reachability test is never run by default: operators ask for it
 * explicitly with `--check-tcp host:port` (tcp-check.ts).
 */
import { si } from './si.js'
import type { Measurement, NotMeasured, Sample } from '../sample.js'
import { readText } from './read-file.js'
import type { Probe, ProbeEnv } from './probe.js'

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

export function gatewayProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'gateway',
    timeoutMs: 5000,
    everySec: 60,
    async collect (): Promise<Sample> {
      let gateway: string | undefined
      let iface: string | undefined
      if (platform === 'linux') {
        const route = parseDefaultGateway((await readText(root, 'proc/net/route')) ?? '')
        gateway = route?.gateway
        iface = route?.iface
      } else gateway = await (await si()).networkGatewayDefault()
      if (gateway === undefined || gateway === '') {
        return { metrics: [{ name: 'net.default_route', unit: 'boolean', value: 0 }], unavailable: [{ probe: 'gateway', reason: 'no IPv4 default route' }] }
      }
      const labels = { gateway }
      const metrics: Measurement[] = [{ name: 'net.default_route', unit: 'boolean', value: 1, labels: iface !== undefined ? { gateway, iface } : labels }]
      const unavailable: NotMeasured[] = []
      if (platform === 'linux') {
        const state = arpState((await readText(root, 'proc/net/arp')) ?? '', gateway)
        if (state === 'none') unavailable.push({ probe: 'gateway', reason: `no neighbour entry for gateway ${gateway} yet (nothing is sent to find out)` })
        else metrics.push({ name: 'net.gateway_reachable', unit: 'boolean', value: state === 'complete' ? 1 : 0, labels })
      } else {
        unavailable.push({ probe: 'gateway', reason: `gateway neighbour state is not read on ${platform} (passive probe; use --check-tcp for an active check)` })
      }
      return unavailable.length > 0 ? { metrics, unavailable } : { metrics }
    }
  }
}
