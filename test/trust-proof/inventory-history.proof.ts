/**
 * Proof for issue 14, "unbounded inventory history": the first check of
 * test/collector/budgets/inventory-history.test.ts, run with the default bounds
 * (the old code had none to set) and the change rows counted in SQL (the old
 * registry had no count). Finding: an agent alternating two 20,000-app
 * inventories grew the database by 251 MB in 60 requests (2.36 M change rows).
 */
import { test } from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { testApp } from '../helpers/app.js'
import { makeReport } from '../helpers/reports.js'

const APPS = 4000
/** The documented default of VIGIE_INVENTORY_MAX_HISTORY_PER_MACHINE. */
const MAX_PER_MACHINE = 20_000
const inventory = (variant: string) => ({
  hash: `inventory-${variant}`,
  apps: Array.from({ length: APPS }, (_, i) => ({ name: `app-${variant}-${i}`, version: '1.0.' + i, source: 'dpkg' }))
})

test('alternating two large inventories keeps the change history and the database file bounded (default bounds)', async (t) => {
  const h = await testApp({ config: { bodyLimitBytes: 8 * 1024 * 1024, rateLimitAgentPerMin: 0 } })
  t.teardown(h.close)
  const { agentId, token } = await h.enroll('inv-flood')
  const db = h.app.db
  const rows = (): number => (db.prepare('SELECT count(*) AS n FROM inventory_changes WHERE machine_id = ?').get(agentId) as { n: number }).n
  const dbFile = path.join(h.dataDir, 'vigie.db')
  const fileSize = (): number => { db.pragma('wal_checkpoint(TRUNCATE)'); return fs.statSync(dbFile).size }

  let seq = 0
  const send = async (variant: string): Promise<number> => {
    const r = { ...makeReport(agentId, ++seq), inventory: inventory(variant) }
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/reports', headers: { authorization: `Bearer ${token}` }, payload: { reports: [r] } })
    return res.statusCode
  }
  await send('a')
  let sizeAfterWarmup = 0
  let most = 0
  const statuses = new Set<number>()
  for (let i = 1; i <= 24; i++) {
    // Each swap is 8,000 changes (4,000 removed, 4,000 added).
    statuses.add(await send(i % 2 === 1 ? 'b' : 'a'))
    most = Math.max(most, rows())
    if (i === 12) sizeAfterWarmup = fileSize()
  }
  t.same([...statuses], [200], 'every report accepted')
  t.ok(most <= MAX_PER_MACHINE, `history rows stay within ${MAX_PER_MACHINE} (most seen: ${most})`)
  const grew = fileSize() - sizeAfterWarmup
  t.ok(grew < 2 * 1024 * 1024, `the database file grew ${grew} bytes over the last 12 swaps (bounded: freed pages are reused)`)
})
