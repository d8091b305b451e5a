/**
 * Default gateway reachability without ICMP (raw sockets need root): a TCP
 * connection attempt to the gateway counts as an answer whether it connects
 * or is refused; on Linux a complete ARP entry for the gateway also counts
 * (routers that silently drop TCP). Bounded to about 2 s.
 */
import net from 'node:net'
import { si } from './si.js'
import type { MetricValue } from '../../protocol/index.js'
import { readText } from './read-file.js'
import { round, type Probe, type ProbeEnv, type ProbeResult } from './probe.js'

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

/** Whether /proc/net/arp holds a complete (flag 0x2) entry for `ip`. */
export function arpComplete (text: string, ip: string): boolean {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f[0] === ip && (parseInt(f[2], 16) & 2) !== 0 && f[3] !== '00:00:00:00:00:00') return true
  }
  return false
}

/** Tries a TCP connection; resolves with the answer time in ms, or undefined when nothing answered. */
export function tcpAnswer (host: string, port: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise(resolve => {
    const started = performance.now()
    const s = net.connect({ host, port })
    let settled = false
    const done = (answered: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(t)
      s.destroy()
      resolve(answered ? performance.now() - started : undefined)
    }
    const t = setTimeout(() => { done(false) }, timeoutMs)
    s.once('connect', () => { done(true) })
    // A refusal is an answer from the gateway's own TCP stack: it is up.
    s.on('error', (err: NodeJS.ErrnoException) => { done(err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') })
  })
}

export function gatewayProbe (env: ProbeEnv = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  return {
    name: 'gateway',
    timeoutMs: 5000,
    everySec: 60,
    async collect (): Promise<ProbeResult> {
      let gateway: string | undefined
      if (platform === 'linux') gateway = parseDefaultGateway((await readText(root, 'proc/net/route')) ?? '')?.gateway
      else gateway = await (await si()).networkGatewayDefault()
      if (gateway === undefined || gateway === '') return { metrics: [], unavailable: [{ probe: 'gateway', reason: 'no IPv4 default route' }] }
      const labels = { gateway }
      const rtt = (await tcpAnswer(gateway, 53, 1000)) ?? (await tcpAnswer(gateway, 80, 1000))
      const arp = platform === 'linux' && arpComplete((await readText(root, 'proc/net/arp')) ?? '', gateway)
      const metrics: MetricValue[] = [{ name: 'net.gateway_reachable', unit: 'boolean', value: rtt !== undefined || arp ? 1 : 0, labels }]
      if (rtt !== undefined) metrics.push({ name: 'net.gateway_rtt_ms', unit: 'milliseconds', value: round(rtt, 2), labels })
      return { metrics }
    }
  }
}
