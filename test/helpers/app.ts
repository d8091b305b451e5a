/** An in-process collector (buildApp, never listening) on a temp SQLite file, with tokens ready. */
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildAppOptions } from '../../collector/app.js'
import { ownedTempDir, removeDir } from './temp.js'

/** The folder helper under its older name: the trust-proof files import it from here and run on older trees too. Tests use ./temp.js. */
export { ownedTempDir as tempDir } from './temp.js'

export interface TestApp {
  app: FastifyInstance
  dataDir: string
  adminToken: string
  viewerToken: string
  enrollToken: string
  /** enrolls an agent and returns its id and token */
  enroll: (hostname?: string) => Promise<{ agentId: string, token: string }>
  close: () => Promise<void>
}

export async function testApp (opts: BuildAppOptions = {}): Promise<TestApp> {
  const dataDir = ownedTempDir()
  const app = await buildApp({ logger: false, ...opts, config: { dataDir, ...opts.config }, env: {} })
  const adminToken = (await app.apiTokens.create('admin', 'test admin')).token
  const viewerToken = (await app.apiTokens.create('viewer', 'test viewer')).token
  const enrollToken = (await app.enrollTokens.create({ name: 'test' })).token
  return {
    app,
    dataDir,
    adminToken,
    viewerToken,
    enrollToken,
    enroll: async (hostname = 'test-host') => {
      const r = await app.agents.enroll({ hostname })
      return { agentId: r.agentId, token: r.token }
    },
    close: async () => {
      await app.close()
      removeDir(dataDir)
    }
  }
}
