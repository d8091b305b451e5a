import t from 'tap'
import * as protocol from '../../protocol/index.js'
import * as wire from '../../agent/wire.js'

t.test('the agent\'s protocol values equal the protocol\'s', async t => {
  t.equal(wire.PROTOCOL_VERSION, protocol.PROTOCOL_VERSION)
  t.equal(wire.TOKEN_ROTATE_HEADER, protocol.TOKEN_ROTATE_HEADER)
  for (const [k, v] of Object.entries(wire.LIMITS)) t.equal(v, protocol.LIMITS[k as keyof typeof protocol.LIMITS], k)
})

t.test('the agent reads the stream\'s close codes as the collector sends them', async t => {
  for (const [k, v] of Object.entries(wire.STREAM_CLOSE)) t.equal(v, protocol.STREAM_CLOSE[k as keyof typeof protocol.STREAM_CLOSE], k)
})
