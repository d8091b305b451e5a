/**
 * Default gateway, passively: what the OS already knows, and nothing sent. On
 * Linux the IPv4 default route comes from /proc/net/route and the gateway's
 * neighbour (ARP) state from /proc/net/arp: a complete entry means the kernel
 * resolved the gateway's link address recently (it answered), an entry in the
 * failed/incomplete state means it did not. No entry at all says nothing either
 * way and is reported as unavailable, not as "unreachable". On macOS and Windows
 * systeminformation reads the routing table (`route`/`netstat`, no packets); the
 * neighbour state is not read there. One file per OS family: gateway-linux.ts,
 * gateway-si.ts; this one holds what they share.
 *
 * An active reachability test is never run by default: operators ask for it
 * explicitly with `--check-tcp host:port` (tcp-check.ts).
 */
import type { Sample } from '../sample.js'

/** The sample when there is no IPv4 default route. */
export function noDefaultRoute (): Sample {
  return { metrics: [{ name: 'net.default_route', unit: 'boolean', value: 0 }], unavailable: [{ probe: 'gateway', reason: 'no IPv4 default route' }] }
}
