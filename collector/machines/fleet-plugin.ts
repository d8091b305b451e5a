/** The fleet list in memory (loaded from the registry at start, kept current by ingest). */
import fp from 'fastify-plugin'
import { FleetIndex } from './fleet-index.js'

declare module 'fastify' {
  interface FastifyInstance {
    fleet: FleetIndex
  }
}

export const fleetPlugin = fp(async (app) => {
  const fleet = new FleetIndex()
  fleet.load(app.registry.listMachines())
  app.decorate('fleet', fleet)
}, { name: 'vigie-fleet', dependencies: ['vigie-store'], fastify: '5.x' })
