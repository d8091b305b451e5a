/**
 * Software inventory: installed applications with versions and the count of
 * pending OS updates, from the platform's own package database. Runs at start
 * and every 6 h. The agent sends the app list only when its hash changed
 * since the collector last acknowledged one (agent/collect.ts). One file per
 * OS says how to ask (inventory-linux.ts, inventory-darwin.ts,
 * inventory-win32.ts); inventory-parsers.ts reads the tools' output.
 */
import { createHash } from 'node:crypto'
import type { App, NotMeasured, Sample } from '../sample.js'
import type { Collect } from './probe.js'
import { normalizeApps } from './inventory-parsers.js'

/** Bounds of the command that lists installed software. */
export const LIST_APPS = { timeoutMs: 90_000, maxBytes: 64 * 1024 * 1024 }

/** How one OS lists its software and counts pending updates (a number, or why it cannot). */
export interface SoftwareSource {
  apps: () => Promise<App[]>
  pendingUpdates: () => Promise<number | NotMeasured>
}

/** Stable hash of an app list (order-independent once normalized). */
export function inventoryHash (apps: readonly App[]): string {
  const h = createHash('sha256')
  for (const a of normalizeApps(apps)) h.update(`${a.source ?? ''}\u0000${a.name}\u0000${a.version}\n`)
  return h.digest('hex')
}

/** The inventory probe's collection over one OS's source. */
export function collectInventory (source: SoftwareSource): Collect {
  return async (): Promise<Sample> => {
    const list = normalizeApps(await source.apps())
    const pending = await source.pendingUpdates()
    if (typeof pending === 'number') {
      return { metrics: [{ name: 'os.pending_updates', unit: 'count', value: pending }], inventory: { apps: list, pendingUpdates: pending } }
    }
    return { metrics: [], unavailable: [pending], inventory: { apps: list } }
  }
}
