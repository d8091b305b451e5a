/**
 * The incidents area: knowledge base, webhook notifier and incident service,
 * their routes, and the timers that run them (auto-resolve, escalation,
 * verification, webhook retries). Services are published on `vigie` so that
 * detect-wiring.ts can feed findings in.
 */
import type { FastifyInstance } from 'fastify'
import type { Vigie } from '../vigie.js'
import { KnowledgeBase } from '../kb/knowledge-base.js'
import { kbRoutes } from '../kb/routes.js'
import { WebhookNotifier } from '../notify/webhooks.js'
import { webhookRoutes } from '../notify/routes.js'
import { IncidentService } from './service.js'
import { incidentRoutes } from './routes.js'

export async function incidentsPlugin (app: FastifyInstance, opts: { vigie: Vigie }): Promise<void> {
  const { vigie } = opts
  const cfg = vigie.config
  const kb = new KnowledgeBase(vigie.db, vigie.now)
  const notifier = new WebhookNotifier(vigie.db, {
    now: vigie.now,
    timeoutMs: cfg.webhookTimeoutMs,
    retryMs: cfg.webhookRetryMs,
    maxPending: cfg.webhookOutboxMax,
    allow: cfg.webhookAllow,
    log: app.log
  })
  const incidents = new IncidentService({
    db: vigie.db,
    kb,
    notifier,
    now: vigie.now,
    events: vigie.events,
    metrics: vigie.metrics,
    hostnameOf: (id) => vigie.registry.getMachine(id)?.hostname,
    groupOf: (id) => vigie.fleet.get(id)?.host.group,
    log: app.log,
    onFolded: () => { vigie.counters.inc('incidents_folded') },
    policy: {
      maxOpenPerMachine: cfg.incidentMaxOpenPerMachine,
      holdMs: cfg.incidentHoldSec * 1000,
      verifyMs: cfg.incidentVerifySec * 1000,
      escalateMs: cfg.incidentEscalateSec * 1000,
      flapCount: cfg.incidentFlapCount,
      flapWindowMs: cfg.incidentFlapWindowSec * 1000
    }
  })
  vigie.kb = kb
  vigie.notifier = notifier
  vigie.incidents = incidents

  await app.register(incidentRoutes, { vigie, incidents })
  await app.register(kbRoutes, { vigie, kb })
  await app.register(webhookRoutes, { vigie, notifier })

  const timer = setInterval(() => {
    incidents.tick()
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
}
