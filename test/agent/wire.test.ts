import t from 'tap'
import * as protocol from '../../protocol/index.js'
import * as wire from '../../agent/wire.js'

t.test('the agent\'s protocol values equal the protocol\'s', async t => {
  t.equal(wire.PROTOCOL_VERSION, protocol.PROTOCOL_VERSION)
  t.equal(wire.TOKEN_ROTATE_HEADER, protocol.TOKEN_ROTATE_HEADER)
  for (const [k, v] of Object.entries(wire.LIMITS)) t.equal(v, protocol.LIMITS[k as keyof typeof protocol.LIMITS], k)
})
