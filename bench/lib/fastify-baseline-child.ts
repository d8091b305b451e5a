/**
 * The ceiling the collector's ingest is measured against: a bare Fastify 5 app
 * with the same server options and the same TypeBox schemas as POST
 * /api/v1/reports (body validated with ReportBatch, answer serialised with
 * BatchAck), whose handler does nothing but answer. Prints `{ url }` when ready.
 */
import Fastify from 'fastify'
import { BatchAck, MAX_BODY_BYTES, ReportBatch } from '../../protocol/index.js'

async function main (): Promise<void> {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } }
  })
  app.post('/api/v1/reports', { schema: { body: ReportBatch, response: { 200: BatchAck } } }, async (request) => {
    const body = request.body as ReportBatch
    return { stored: body.reports.map(r => r.seq), duplicates: [], serverTime: new Date().toISOString() }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const addr = app.server.address() as { port: number }
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${addr.port}`, pid: process.pid }) + '\n')
  process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

main().catch((err: unknown) => { process.stderr.write(String(err) + '\n'); process.exit(1) })
