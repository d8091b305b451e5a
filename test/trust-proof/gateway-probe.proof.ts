/**
 * Proof for issue 14, "the agent opens connections nobody asked for": the gateway
 * probe of the old commit and of the current code, run on the same recorded
 * Linux tree (a laptop whose default gateway is 192.168.1.1), with a tripwire
 * that records and fails every connection attempt before it reaches the kernel:
 * no packet is sent either way. (test/agent/outbound.test.ts traces a whole real
 * agent with strace; it is not run on the old commit, whose agent would send
 * packets to this machine's real gateway.)
 */
import t from 'tap'
import path from 'node:path'
// After the agent's split the probe is agent/probes/gateway-linux.ts; on the old commit
// this line read `import { gatewayProbe } from '../../agent/probes/gateway.js'` and
// the call below `gatewayProbe({ root: LAPTOP, platform: 'linux' }).collect()`.
import { linuxGateway } from '../../agent/probes/gateway-linux.js'
import { blockConnects } from '../helpers/no-connect.js'

const LAPTOP = path.resolve(import.meta.dirname, '..', 'fixtures', 'agent', 'linux-laptop')

t.test('the gateway probe opens no connection to the gateway (or anywhere)', async t => {
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  const r = await linuxGateway({ root: LAPTOP })()
  t.same(wire.attempts, [], 'no connection attempted')
  t.ok(r.metrics.some(m => m.labels?.gateway === '192.168.1.1'), 'the gateway is still reported')
})
