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
import { gatewayProbe } from '../../agent/probes/gateway.js'
import { blockConnects } from '../helpers/no-connect.js'

const LAPTOP = path.resolve(import.meta.dirname, '..', 'fixtures', 'agent', 'linux-laptop')

t.test('the gateway probe opens no connection to the gateway (or anywhere)', async t => {
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  const r = await gatewayProbe({ root: LAPTOP, platform: 'linux' }).collect()
  t.same(wire.attempts, [], 'no connection attempted')
  t.ok(r.metrics.some(m => m.labels?.gateway === '192.168.1.1'), 'the gateway is still reported')
})
