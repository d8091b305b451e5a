/**
 * The machines API and each machine's status (connectivity from its last report;
 * health from its open incidents; "offline as usual" from detection).
 */
import fp from 'fastify-plugin'
import { MachineStatusBoard } from './status.js'
import { machineRoutes } from './routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    status: MachineStatusBoard
  }
}

export const machinesPlugin = fp(async (app) => {
  const { incidents, detection } = app
  app.decorate('status', new MachineStatusBoard(app.config.reportIntervalSec, {
    worstSeverity: (machineId) => incidents.worstSeverity(machineId),
    worstAll: () => incidents.worstAll(),
    silenceExpected: (machineId) => detection.silenceExpected(machineId)
  }))
  await app.register(machineRoutes)
}, { name: 'vigie-machines', dependencies: ['vigie-fleet', 'vigie-incidents', 'vigie-detect'], fastify: '5.x' })
