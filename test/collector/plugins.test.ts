/**
 * The collector's areas are Fastify plugins that name what they need: one
 * registered without its dependency fails at boot with Fastify's own message,
 * and the whole app registers them in an order that satisfies every one.
 */
import t from 'tap'
import Fastify from 'fastify'
import { corePlugin } from '../../collector/core/plugin.js'
import { storePlugin } from '../../collector/store/plugin.js'
import { fleetPlugin } from '../../collector/machines/fleet-plugin.js'
import { incidentsPlugin } from '../../collector/incidents/plugin.js'
import { loadCollectorConfig } from '../../collector/core/config.js'
import { testApp } from '../helpers/app.js'
import { tempDir } from '../helpers/temp.js'

t.test('an area registered without the area it needs fails at boot, naming both', async t => {
  const dataDir = tempDir(t)
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  const config = loadCollectorConfig({ dataDir }, {})
  await app.register(corePlugin, { config, now: Date.now })
  // the fleet list needs the store, which is not registered
  await t.rejects(async () => { await app.register(fleetPlugin) }, /The dependency 'vigie-store' of plugin 'vigie-fleet' is not registered/)
})

t.test('incidents without auth, fleet and ingest: the first missing one is named', async t => {
  const dataDir = tempDir(t)
  const app = Fastify({ logger: false })
  t.teardown(() => app.close())
  const config = loadCollectorConfig({ dataDir }, {})
  await app.register(corePlugin, { config, now: Date.now })
  await app.register(storePlugin)
  await t.rejects(async () => { await app.register(incidentsPlugin) }, /The dependency 'vigie-auth' of plugin 'vigie-incidents' is not registered/)
})

t.test('the app registers every area, each after what it needs', async t => {
  const h = await testApp()
  t.teardown(h.close)
  for (const name of ['vigie-core', 'vigie-store', 'vigie-fleet', 'vigie-auth', 'vigie-ingest', 'vigie-incidents', 'vigie-detect', 'vigie-machines', 'vigie-live']) {
    t.ok(h.app.hasPlugin(name), `${name} registered`)
  }
  for (const d of ['config', 'db', 'registry', 'metrics', 'fleet', 'auth', 'requireRole', 'requireAgent', 'ingest', 'events', 'incidents', 'kb', 'notifier', 'detection', 'status', 'live']) {
    t.ok(h.app.hasDecorator(d), `app.${d} decorated`)
  }
})
