/** The default gateway on macOS and Windows, from the routing table through systeminformation (no packets); the neighbour state is not read. */
import { si } from './si.js'
import type { Sample } from '../sample.js'
import type { Collect, ProbeOs } from './probe.js'
import { noDefaultRoute } from './gateway.js'

export function siGateway (os: ProbeOs): Collect {
  return async (): Promise<Sample> => {
    const gateway = await (await si()).networkGatewayDefault()
    if (gateway === undefined || gateway === '') return noDefaultRoute()
    return {
      metrics: [{ name: 'net.default_route', unit: 'boolean', value: 1, labels: { gateway } }],
      unavailable: [{ probe: 'gateway', reason: `gateway neighbour state is not read on ${os} (passive probe; use --check-tcp for an active check)` }]
    }
  }
}
