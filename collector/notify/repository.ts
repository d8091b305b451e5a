/**
 * Where webhook subscriptions and their outbox are kept: the interface every
 * store implements (SQLite in sqlite-store.ts; a network database later), with
 * its contract in test/collector/notify/contract.ts. Pure persistence: the
 * delivery loop, its retry policy and the fair bound live in webhooks.ts.
 *
 * `enqueue` is called inside an incident's lifecycle step and shares its
 * transaction (IncidentRepository.transaction), so an event is queued exactly
 * when the change that caused it commits. Everything else stands alone; each
 * call is atomic. With several collectors, delivery will claim rows (a later
 * `claim` with `FOR UPDATE SKIP LOCKED`); one loop per process is what runs today.
 */
import type { WebhookEventType } from './payload.js'

/** A subscription as stored: the URL unredacted and its HMAC secret (never shown after creation). */
export interface StoredWebhook {
  id: string
  url: string
  secret: string
  events: WebhookEventType[]
  description: string
  createdMs: number
  createdBy: string
}

export type OutboxState = 'pending' | 'delivered' | 'dead'

/** One event waiting for (or done with) one webhook; `id` orders rows, ascending = queued first. */
export interface OutboxRow {
  id: number
  webhookId: string
  eventId: string
  type: string
  /** the exact bytes POSTed on every attempt */
  body: string
  /** the machine whose incident the event announces (the fair bound's unit) */
  machineId: string
  createdMs: number
  attempts: number
  /** the next attempt is not before this */
  nextMs: number
  state: OutboxState
  lastStatus: number | null
  lastError: string | null
  doneMs: number | null
}

/** A new row: pending, no attempt yet, due at once. */
export interface NewOutboxRow { webhookId: string, eventId: string, type: string, body: string, machineId: string, createdMs: number }

/** What an attempt leaves: delivered or dead (done at `atMs`), or pending again until `nextMs`. */
export type AttemptOutcome =
  | { state: 'delivered' | 'dead', attempts: number, status: number | null, error: string | null, atMs: number }
  | { state: 'pending', attempts: number, status: number | null, error: string, nextMs: number }

export interface WebhookRepository {
  /* subscriptions */
  /** Adds a subscription; an id already kept is refused. */
  insertHook: (w: StoredWebhook) => Promise<void>
  /** Every subscription, oldest first (created, then id). */
  hooks: () => Promise<StoredWebhook[]>
  getHook: (id: string) => Promise<StoredWebhook | undefined>
  /** Removes the subscription and every outbox row of it, together; false when there was none. */
  deleteHook: (id: string) => Promise<boolean>

  /* the outbox */
  /** Queues rows (one event, one row per webhook); an (webhook, event) already queued is refused. */
  enqueue: (rows: readonly NewOutboxRow[]) => Promise<void>
  /** One webhook's rows, newest first. */
  deliveries: (webhookId: string, limit: number) => Promise<OutboxRow[]>
  /** Pending rows, all webhooks. */
  pendingCount: () => Promise<number>
  /** Webhooks that have at least one pending row. */
  webhooksWithPending: () => Promise<string[]>
  /** The oldest pending row of a webhook (due or not). */
  nextPending: (webhookId: string) => Promise<OutboxRow | undefined>
  /** Records an attempt's outcome on a row. */
  recordAttempt: (id: number, outcome: AttemptOutcome) => Promise<void>
  /** The `limit` machines with the most pending rows, most first (ties: the one with the oldest row). */
  heaviestPending: (limit: number) => Promise<Array<{ machineId: string, pending: number }>>
  /** Gives up a machine's `n` oldest pending rows (dead at `atMs`, with `reason`); returns how many. */
  dropOldestPending: (machineId: string, n: number, atMs: number, reason: string) => Promise<number>
  /** Deletes delivered and dead rows done before `beforeMs`; returns how many. */
  pruneDone: (beforeMs: number) => Promise<number>
}
