/**
 * Child-process entry for benchmarks and integration tests: starts the real
 * collector (collector/main.ts startCollector) on loopback, creates an enrollment
 * token, and prints one JSON line `{ url, enrollToken, adminToken }` on stdout.
 * SIGTERM closes it cleanly. Configuration comes from the environment
 * (VIGIE_DATA_DIR, VIGIE_PORT, …) like the real collector.
 */
import { startCollector } from '../../collector/main.js'

async function main (): Promise<void> {
  const { app, url } = await startCollector({})
  const enrollToken = (await app.enrollTokens.create({ name: 'bench' })).token
  const adminToken = (await app.apiTokens.create('admin', 'bench')).token
  process.stdout.write(JSON.stringify({ url, enrollToken, adminToken, pid: process.pid }) + '\n')
  const stop = (): void => { app.close().then(() => process.exit(0), () => process.exit(1)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`collector-child: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
