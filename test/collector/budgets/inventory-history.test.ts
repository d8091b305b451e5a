/**
 * Budgets: the inventory change history is bounded per report, per machine and in
 * time. Finding: an agent alternating two 20,000-app inventories grew the database
 * by 251 MB in 60 requests (2.36 M change rows).
 */
import { test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { testApp } from '../../helpers/app.js'
import { makeReport } from '../../helpers/reports.js'

const APPS = 4000
const inventory = (variant: string, n = APPS) => ({
  hash: `hash-${variant}-${n}`,
  apps: Array.from({ length: n }, (_, i) => ({ name: `app-${variant}-${i}`, version: '1.0.' + i, source: 'dpkg' }))
})

test('alternating two large inventories keeps the change history within its bounds', async (t) => {
  const maxPerReport = 2000
  const maxPerMachine = 5000
  const h = await testApp({ config: { bodyLimitBytes: 8 * 1024 * 1024, rateLimitAgentPerMin: 0, inventoryMaxChangesPerReport: maxPerReport, inventoryMaxHistoryPerMachine: maxPerMachine } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('inv-flood')
  const db = h.app.db
  const dbFile = path.join(h.dataDir, 'vigie.db')
  const fileSize = (): number => { db.pragma('wal_checkpoint(TRUNCATE)'); return fs.statSync(dbFile).size }

  let seq = 0
  const send = async (variant: string) => {
    const r = { ...makeReport(agentId, ++seq), inventory: inventory(variant) }
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    t.equal(res.statusCode, 200, `report ${seq} accepted`)
  }
  await send('a')
  let sizeAfterWarmup = 0
  const rounds = 24
  for (let i = 1; i <= rounds; i++) {
    await send(i % 2 === 1 ? 'b' : 'a')
    // Each swap is 8,000 changes (4,000 removed, 4,000 added): far over the per-report cap.
    t.ok(h.app.registry.countInventoryChanges(agentId) <= maxPerMachine, 'history rows never exceed the per-machine bound')
    if (i === 6) sizeAfterWarmup = fileSize()
  }
  const rows = h.app.registry.countInventoryChanges(agentId)
  t.ok(rows <= maxPerMachine, `history rows ${rows} ≤ ${maxPerMachine}`)
  const finalSize = fileSize()
  // Old code: 24 × 8,000 = 192,000 rows, tens of MB more. Bounded: freed pages are reused.
  t.ok(finalSize - sizeAfterWarmup < 2 * 1024 * 1024, `database file grew ${finalSize - sizeAfterWarmup} bytes after warm-up (bounded)`)

  // The inventory itself is exactly the last one sent; the history says what was not recorded.
  const res = await h.app.inject({ url: `/api/v1/machines/${agentId}/inventory`, headers: { authorization: `Bearer ${h.viewerToken}` } })
  const body = res.json() as { apps: unknown[], changes: Array<{ name: string, omitted?: number }> }
  t.equal(body.apps.length, APPS, 'the current inventory is complete')
  const summary = body.changes.find(c => c.omitted !== undefined)
  t.ok(summary !== undefined, 'a summary row counts the changes beyond the per-report cap')
  t.equal(summary?.omitted, 2 * APPS - maxPerReport, 'the summary counts exactly the changes not recorded')
})

test('per-report cap: at the cap every change is recorded, one over records a summary', async (t) => {
  const cap = 100
  const h = await testApp({ config: { rateLimitAgentPerMin: 0, inventoryMaxChangesPerReport: cap } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('inv-cap')
  let seq = 0
  const send = async (inv: ReturnType<typeof inventory>) => {
    const r = { ...makeReport(agentId, ++seq), inventory: inv }
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    t.equal(res.statusCode, 200)
  }
  await send(inventory('base', 10))
  // 10 + 90 = 100 additions: exactly the cap
  const atCap = inventory('base', 10); atCap.apps.push(...inventory('x', 90).apps); atCap.hash = 'at-cap-hash'
  await send(atCap)
  t.equal(h.app.registry.countInventoryChanges(agentId), 90, 'under the cap: all recorded')
  // 101 changes: 90 removals + 11 additions
  const over = inventory('y', 11); over.apps.unshift(...inventory('base', 10).apps); over.hash = 'over-hash'
  await send(over)
  const changes = h.app.registry.getInventoryChanges(agentId, 1000)
  t.equal(changes.length, 90 + cap + 1, 'one over the cap: cap rows and one summary row')
  t.same(changes.filter(c => c.omitted !== undefined).map(c => c.omitted), [1], 'the summary counts the one change not recorded')
})

test('retention: the hourly prune deletes inventory history older than VIGIE_INVENTORY_HISTORY_DAYS', async (t) => {
  const day = 86_400_000
  const now = Date.now()
  // The collector's clock walks through the days: each report is sampled at its receipt
  // time (reports older than the spool's age bound are refused at ingest).
  let clock = now - 12 * day
  const h = await testApp({ now: () => clock, config: { rateLimitAgentPerMin: 0, inventoryHistoryDays: 10 } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('inv-old')
  let seq = 0
  for (const [i, ageDays] of [[0, 12], [1, 11], [2, 1]] as const) {
    clock = now - ageDays * day
    const at = new Date(clock).toISOString()
    const r = { ...makeReport(agentId, ++seq, { atMs: clock }), agentClock: at, inventory: inventory('v' + i, 5) }
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    t.equal(res.statusCode, 200, `the report sampled ${ageDays} days ago is stored`)
  }
  clock = now
  // the first inventory records nothing; the second (11 days old) and third (1 day) each 10 changes
  t.equal(h.app.registry.countInventoryChanges(agentId), 20)
  t.equal(h.app.registry.pruneInventoryChanges(now - 10 * day), 10, 'changes older than 10 days pruned')
  t.equal(h.app.registry.countInventoryChanges(agentId), 10, 'recent changes kept')
})
