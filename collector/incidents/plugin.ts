/**
 * The incidents area: knowledge base, webhook notifier and incident service,
 * their routes, and the timers that run them (auto-resolve, escalation,
 * verification, webhook retries). Decorates `incidents`, `kb` and `notifier`;
 * the detection plugin feeds findings in.
 */
import fp from 'fastify-plugin'
import { KnowledgeBase } from '../kb/knowledge-base.js'
import { SqliteKbStore } from '../kb/sqlite-store.js'
import { kbRoutes } from '../kb/routes.js'
import { WebhookNotifier } from '../notify/webhooks.js'
import { SqliteWebhookStore } from '../notify/sqlite-store.js'
import { webhookRoutes } from '../notify/routes.js'
import { IncidentService } from './service.js'
import { SqliteIncidentStore } from './sqlite-store.js'
import { incidentRoutes } from './routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    incidents: IncidentService
    kb: KnowledgeBase
    notifier: WebhookNotifier
  }
}

export const incidentsPlugin = fp(async (app) => {
  const cfg = app.config
  const kb = new KnowledgeBase(new SqliteKbStore(app.db), app.now)
  const notifier = new WebhookNotifier(new SqliteWebhookStore(app.db), {
    now: app.now,
    timeoutMs: cfg.webhookTimeoutMs,
    retryMs: cfg.webhookRetryMs,
    maxPending: cfg.webhookOutboxMax,
    allow: cfg.webhookAllow,
    log: app.log
  })
  const incidents = new IncidentService({
    store: new SqliteIncidentStore(app.db),
    kb,
    notifier,
    now: app.now,
    events: app.events,
    metrics: app.metrics,
    hostnameOf: (id) => app.registry.getMachine(id)?.hostname,
    groupOf: (id) => app.fleet.get(id)?.host.group,
    log: app.log,
    onFolded: () => { app.counters.inc('incidents_folded') },
    policy: {
      maxOpenPerMachine: cfg.incidentMaxOpenPerMachine,
      holdMs: cfg.incidentHoldSec * 1000,
      verifyMs: cfg.incidentVerifySec * 1000,
      escalateMs: cfg.incidentEscalateSec * 1000,
      flapCount: cfg.incidentFlapCount,
      flapWindowMs: cfg.incidentFlapWindowSec * 1000
    }
  })
  app.decorate('kb', kb)
  app.decorate('notifier', notifier)
  app.decorate('incidents', incidents)

  await app.register(incidentRoutes)
  await app.register(kbRoutes)
  await app.register(webhookRoutes)

  const timer = setInterval(() => {
    // tick() logs what fails per incident; what escapes it (the store gone) is logged here
    incidents.tick().catch((err: unknown) => { app.log.warn({ err }, 'incident timers failed') })
    void notifier.run()
  }, cfg.incidentTickMs)
  timer.unref()
  // deliveries left over from the previous run go out as soon as we are up
  app.addHook('onReady', async () => { void notifier.run() })
  app.addHook('preClose', async () => {
    clearInterval(timer)
    await incidents.idle()
    await notifier.close()
  })
}, { name: 'vigie-incidents', dependencies: ['vigie-auth', 'vigie-fleet', 'vigie-ingest'], fastify: '5.x' })
