/**
 * Shared set-up for the dashboard tests: builds the dashboards when dist is
 * missing or older than its sources, starts a real collector on port 0 with a
 * temp data folder serving that dist, seeds a fleet, and makes a technician token.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Page } from 'playwright-core'
import { buildDashboards, DASHBOARDS_DIST } from '../../dashboards/build.js'
import { startCollector } from '../../collector/main.js'
import { seedFleet, type SeededMachine, type SeedOptions } from '../helpers/fleet-seed.js'

export const ARTIFACTS = path.resolve(import.meta.dirname, '..', 'artifacts')
const SRC = path.resolve(import.meta.dirname, '..', '..', 'dashboards', 'src')

async function newestMtime (dir: string): Promise<number> {
  let newest = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? await newestMtime(p) : (await stat(p)).mtimeMs)
  }
  return newest
}

let building: Promise<string> | undefined
/** Builds dashboards/dist when it is missing or older than dashboards/src. */
export async function ensureDist (): Promise<string> {
  building ??= (async () => {
    const built = await stat(path.join(DASHBOARDS_DIST, 'app.js')).then(s => s.mtimeMs, () => 0)
    if (built === 0 || built < await newestMtime(SRC)) {
      // Build elsewhere and point the collector there: parallel test files never see a half-written dist.
      const out = await mkdtemp(path.join(tmpdir(), 'vigie-dist-'))
      return await buildDashboards({ outDir: out })
    }
    return DASHBOARDS_DIST
  })()
  return await building
}

export interface DashboardCollector {
  app: FastifyInstance
  url: string
  /** a technician API token (vgt_…) */
  token: string
  machines: SeededMachine[]
  close: () => Promise<void>
}

export async function startDashboardCollector (seed?: SeedOptions): Promise<DashboardCollector> {
  const dist = await ensureDist()
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vigie-dash-'))
  const { app, url } = await startCollector({
    config: { dataDir, port: 0, host: '127.0.0.1', dashboardsDir: dist, logLevel: 'warn' },
    logger: false,
    liveFlushMs: 100
  })
  const token = (await app.apiTokens.create('technician', 'Camille Technicienne')).token
  const machines = seed === undefined ? [] : await seedFleet(app, seed)
  return {
    app,
    url,
    token,
    machines,
    close: async () => {
      await app.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** Opens the dashboard signed in (token kept in sessionStorage, as the sign-in form does). */
export async function openSignedIn (page: Page, url: string, token: string, hash = '#/'): Promise<void> {
  await page.goto(url + '/')
  await page.evaluate((tok) => { sessionStorage.setItem('vigie.token', tok) }, token)
  await page.goto(url + '/' + hash)
  await page.reload()
}

export async function screenshot (page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  return file
}

/** Calls the collector's API as the technician (test set-up that is not what the test is about). */
export async function apiCall<T> (c: DashboardCollector, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(c.url + path, {
    method,
    headers: { authorization: `Bearer ${c.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`)
  return await res.json() as T
}
