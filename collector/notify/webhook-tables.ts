/** The webhooks' tables: subscriptions and the durable outbox (collector/notify/webhooks.ts). */

export const MIGRATIONS = [
  `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events_json TEXT NOT NULL,
    description TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL
  );
  CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_status INTEGER,
    last_error TEXT,
    done_ms INTEGER,
    UNIQUE (webhook_id, event_id)
  );
  CREATE INDEX webhook_outbox_pending ON webhook_outbox(state, webhook_id, id);
  CREATE INDEX webhook_outbox_done ON webhook_outbox(done_ms) WHERE done_ms IS NOT NULL;
  `
]

/**
 * Fair eviction (budgets): each outbox row names the machine whose incident it
 * announces, so a full outbox gives up rows of the machine with the most
 * waiting, never another machine's alert (#bound).
 */
export const FAIR_MIGRATIONS = [
  `
  ALTER TABLE webhook_outbox ADD COLUMN machine_id TEXT NOT NULL DEFAULT '';
  CREATE INDEX webhook_outbox_machine ON webhook_outbox(state, machine_id, id);
  `
]
