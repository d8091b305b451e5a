/**
 * Fleet overview rendering at 10,000 machines against 100, in the same run:
 * a real collector (temp data folder) per fleet size, headless Debian chromium,
 * the real dashboard bundle. Measures, in the page:
 *   - first rows: navigation start → first machine rows on screen
 *   - scroll: jump to the middle of the list → those rows shown with data
 *     (includes fetching that page of up to 1000 rows)
 *   - filter: click a status chip → list shows only that status
 *   - search: type a hostname → list narrowed to it
 * and prints each as a ratio to the 100-machine fleet, plus the DOM rows built.
 *
 *   npx tsx bench/overview-render.ts [--machines 10000] [--runs 3]
 */
import { parseArgs } from 'node:util'
import type { Page } from 'playwright-core'
import { launchBrowser } from '../test/helpers/browser.js'
import { openSignedIn, startDashboardCollector, type DashboardCollector } from '../test/dashboards/setup.js'

const { values } = parseArgs({ options: { machines: { type: 'string', default: '10000' }, runs: { type: 'string', default: '3' } } })
const BIG = Number(values.machines)
const SMALL = 100
const RUNS = Number(values.runs)
const ROW_HEIGHT = 44

/** The same API requests the page makes, timed from Node: how much of each figure is the collector. */
async function apiMs (c: DashboardCollector, query: string): Promise<number> {
  const t0 = performance.now()
  const res = await fetch(`${c.url}/api/v1/machines?${query}`, { headers: { authorization: `Bearer ${c.token}` } })
  await res.arrayBuffer()
  return performance.now() - t0
}

async function serverSample (c: DashboardCollector, n: number): Promise<Record<string, number>> {
  return {
    firstRowsMs: await apiMs(c, 'sort=worst&limit=1000&offset=0'),
    scrollMs: await apiMs(c, `sort=worst&limit=1000&offset=${Math.floor(n / 2 / 1000) * 1000}`),
    filterMs: await apiMs(c, 'sort=worst&status=offline&limit=1000&offset=0'),
    searchMs: await apiMs(c, `sort=worst&q=pc-${String(Math.floor(n / 3)).padStart(5, '0')}&limit=1000&offset=0`)
  }
}

interface Sample { firstRowsMs: number, scrollMs: number, filterMs: number, searchMs: number, domRows: number }

const median = (xs: number[]): number => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

async function measure (page: Page, c: DashboardCollector, n: number): Promise<Sample> {
  await openSignedIn(page, c.url, c.token)
  await page.waitForSelector('.vrow[data-machine]', { timeout: 60_000 })
  const firstRowsMs = await page.evaluate(() => performance.now())
  const domRows = await page.locator('.vrow[data-index]').count()

  // Jump to the middle: rows there must show real machines (their page fetched).
  const target = Math.floor(n / 2)
  const scrollMs = await page.evaluate(async ({ target, rh }) => {
    const list = document.querySelector('.vlist') as HTMLElement
    const t0 = performance.now()
    list.scrollTop = target * rh
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const row = document.querySelector(`.vrow[data-index="${target}"]`) as HTMLElement | null
        if (row?.dataset.machine) resolve(); else requestAnimationFrame(check)
      }
      check()
    })
    return performance.now() - t0
  }, { target, rh: ROW_HEIGHT })

  // Filter by a status chip (offline: one machine in ten).
  const filterMs = await page.evaluate(async () => {
    const t0 = performance.now()
    ;(document.querySelector('.chip[data-filter="offline"]') as HTMLElement).click()
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const rows = [...document.querySelectorAll<HTMLElement>('.vrow[data-machine]')].filter(r => r.dataset.machine !== '')
        if (rows.length > 0 && rows.every(r => r.querySelector('[data-status="offline"]') !== null)) resolve(); else requestAnimationFrame(check)
      }
      check()
    })
    return performance.now() - t0
  })
  await page.click('.chip[data-filter="offline"]')

  // Search a hostname (the input waits 200 ms for typing to pause; that wait is included).
  const host = `pc-${String(Math.floor(n / 3)).padStart(5, '0')}`
  const searchMs = await page.evaluate(async (host) => {
    const input = document.querySelector('[data-testid=search]') as HTMLInputElement
    const t0 = performance.now()
    input.value = host
    input.dispatchEvent(new Event('input'))
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const rows = [...document.querySelectorAll<HTMLElement>('.vrow[data-machine]')].filter(r => r.dataset.machine !== '')
        if (rows.length === 1 && rows[0].dataset.hostname === host) resolve(); else requestAnimationFrame(check)
      }
      check()
    })
    return performance.now() - t0
  }, host)
  return { firstRowsMs, scrollMs, filterMs, searchMs, domRows }
}

async function main (): Promise<void> {
  const seedStart = Date.now()
  const small = await startDashboardCollector({ count: SMALL, offlineFraction: 0.1 })
  const big = await startDashboardCollector({ count: BIG, offlineFraction: 0.1 })
  process.stdout.write(`seeded ${SMALL} + ${BIG} machines in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`)
  const browser = await launchBrowser()
  try {
    const page = await browser.context.newPage()
    // tsx (esbuild) wraps named functions in __name(); the page must know it for page.evaluate callbacks.
    await page.addInitScript('window.__name = (f) => f')
    const results: Record<'small' | 'big', Sample[]> = { small: [], big: [] }
    const server: Record<'small' | 'big', Array<Record<string, number>>> = { small: [], big: [] }
    for (let r = 0; r < RUNS; r++) {
      results.small.push(await measure(page, small, SMALL))
      results.big.push(await measure(page, big, BIG))
      server.small.push(await serverSample(small, SMALL))
      server.big.push(await serverSample(big, BIG))
    }
    const rows: Array<[string, keyof Sample]> = [['first rows on screen', 'firstRowsMs'], ['scroll to middle', 'scrollMs'], ['status filter', 'filterMs'], ['hostname search (incl. 200 ms debounce)', 'searchMs']]
    process.stdout.write(`\noverview, median of ${RUNS} runs      ${String(SMALL).padStart(8)}  ${String(BIG).padStart(8)}   ratio   (of which the API request: ${SMALL} / ${BIG})\n`)
    for (const [label, key] of rows) {
      const a = median(results.small.map(s => s[key]))
      const b = median(results.big.map(s => s[key]))
      const sa = median(server.small.map(s => s[key]))
      const sb = median(server.big.map(s => s[key]))
      process.stdout.write(`${label.padEnd(40)} ${a.toFixed(0).padStart(6)} ms ${b.toFixed(0).padStart(6)} ms  ×${(b / a).toFixed(2).padEnd(6)}  ${sa.toFixed(0).padStart(5)} ms / ${sb.toFixed(0)} ms\n`)
    }
    process.stdout.write(`${'row elements built'.padEnd(40)} ${String(median(results.small.map(s => s.domRows))).padStart(9)} ${String(median(results.big.map(s => s.domRows))).padStart(9)}  ×${(median(results.big.map(s => s.domRows)) / median(results.small.map(s => s.domRows))).toFixed(2)}\n`)
  } finally {
    await browser.close()
    await small.close()
    await big.close()
  }
}

main().catch((err: unknown) => { process.stderr.write(`overview-render: ${(err as Error).stack ?? String(err)}\n`); process.exit(1) })
