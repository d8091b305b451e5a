import t from 'tap'
import { loadAgentConfig } from '../../agent/config.js'

t.test('the machine group comes from --group or VIGIE_AGENT_GROUP, and must be printable', async t => {
  t.equal(loadAgentConfig({ group: 'site-lyon' }, { env: {} }).group, 'site-lyon')
  t.equal(loadAgentConfig({}, { env: { VIGIE_AGENT_GROUP: 'compta' } }).group, 'compta')
  t.equal(loadAgentConfig({}, { env: {} }).group, undefined, 'no group by default')
  t.throws(() => loadAgentConfig({}, { env: { VIGIE_AGENT_GROUP: 'a\nb' } }), { message: /VIGIE_AGENT_GROUP="a\\nb": expected 1 to 128 printable characters/ })
})
