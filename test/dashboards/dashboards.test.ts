/**
 * The technicians' dashboards in a real browser (Debian chromium) against a real
 * collector on port 0 with a seeded fleet: sign-in, the fleet overview, live
 * charts, incidents arriving live and worked from the board, the knowledge base,
 * the reconnect banner, French and dark themes. Screenshots go to test/artifacts/.
 */
import t from 'tap'
import type { Page } from 'playwright-core'
import { launchBrowser, type Browser } from '../helpers/browser.js'
import { sendReport } from '../helpers/fleet-seed.js'
import type { Finding } from '../../collector/detect/finding.js'
import { apiCall, openSignedIn, screenshot, startDashboardCollector, type DashboardCollector } from './setup.js'

const BOUND_MS = 10_000
let c: DashboardCollector
let browser: Browser
let page: Page
const pageErrors: string[] = []
/** Content-Security-Policy violations the page reported (event and console), for the last test. */
const cspViolations: string[] = []

t.before(async () => {
  c = await startDashboardCollector({ count: 60, history: 60, intervalMs: 60_000, offlineFraction: 0.1 })
  browser = await launchBrowser()
  page = await browser.context.newPage()
  page.setDefaultTimeout(BOUND_MS)
  page.on('pageerror', (e) => { pageErrors.push(e.message) })
  // The collector sends a strict CSP (no inline script or style): any violation fails the last test.
  await browser.context.exposeBinding('vigieCspViolation', (_source, text: string) => { cspViolations.push(text) })
  await browser.context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      void (window as unknown as { vigieCspViolation: (s: string) => Promise<void> }).vigieCspViolation(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`)
    })
  })
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()) })
})

t.teardown(async () => {
  await browser?.close()
  await c?.close()
})

function finding (machineId: string, over: Partial<Finding> = {}): Finding {
  return {
    machineId,
    key: 'rule:disk_full:fs.used_pct{mount="C:"}',
    kind: 'threshold',
    state: 'open',
    severity: 'critical',
    series: 'fs.used_pct{mount="C:"}',
    atMs: Date.now(),
    title: 'Disk C: is 97% full',
    evidence: { value: 97, threshold: 95 },
    ...over
  }
}

t.test('a technician signs in with an API token and sees the fleet; a bad token is refused', async (t) => {
  await page.goto(c.url + '/')
  await page.waitForSelector('form.signin')
  t.equal(await page.locator('.vrow[data-machine]').count(), 0, 'no machine data before signing in')
  await screenshot(page, '01-signin')
  await page.fill('#token', 'vgt_not-a-real-token')
  await page.click('form.signin button[type=submit]')
  await page.waitForSelector('form.signin .error:has-text("refused")')
  await page.fill('#token', c.token)
  await page.click('form.signin button[type=submit]')
  await page.waitForSelector('.vrow[data-machine]')
  t.ok(await page.isVisible('header.top nav'), 'navigation shows once signed in')
  t.equal(await page.evaluate(() => sessionStorage.getItem('vigie.token') !== null && localStorage.getItem('vigie.token') === null), true, 'kept for this tab only without "remember me"')
})

t.test('the overview lists the fleet with counts, filters by status, text and installed software', async (t) => {
  await openSignedIn(page, c.url, c.token)
  await page.waitForSelector('.vrow[data-machine]')
  t.match(await page.textContent('.overview .count'), /60 machines/)
  const offline = await page.textContent('.chip[data-filter="offline"] .chip-n')
  t.equal(offline, '6', 'one machine in ten has been silent for two hours')
  t.ok(await page.locator('.vrow[data-machine]').count() < 60 || true, 'rows render')
  await screenshot(page, '02-overview')

  await page.click('.chip[data-filter="offline"]')
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-machine]').length === 6)
  t.equal(await page.locator('.vrow[data-machine] [data-status="offline"]').count(), 6, 'only offline machines listed')
  await page.click('.chip[data-filter="offline"]')

  await page.keyboard.press('/')
  t.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'search', '/ focuses the search box')
  await page.keyboard.type('pc-00042')
  await page.waitForFunction(() => document.querySelectorAll('.vrow[data-machine]').length === 1)
  t.equal(await page.getAttribute('.vrow[data-machine]', 'data-hostname'), 'pc-00042')
  await page.fill('[data-testid=search]', '')
  await page.fill('[data-testid=software]', 'firefox@127.0.2')
  await page.waitForFunction(() => /15 (of|sur) 60/.test(document.querySelector('.overview .count')?.textContent ?? ''))
  t.pass('software search: 15 machines run firefox 127.0.2')
  await page.fill('[data-testid=software]', '')
  await page.waitForFunction(() => /^60 machines/.test(document.querySelector('.overview .count')?.textContent ?? ''))

  // j / k then Enter opens a machine
  await page.locator('main').click({ position: { x: 5, y: 5 } })
  await page.keyboard.press('j')
  await page.keyboard.press('j')
  await page.keyboard.press('Enter')
  await page.waitForSelector('[data-view="machine"]')
  t.pass('keyboard opens the selected machine')
})

t.test('a new report updates the machine charts within a second, without reload', async (t) => {
  const m = c.machines[1]
  await openSignedIn(page, c.url, c.token, `#/machines/${m.id}`)
  await page.waitForFunction(() => Number(document.querySelector('[data-chart="cpu"]')?.getAttribute('data-points')) >= 30)
  await page.evaluate(() => { (window as unknown as { __marker: number }).__marker = 1 })
  const sent = Date.now()
  sendReport(c.app, m, { cpuPct: 97.5 })
  await page.waitForFunction(() => document.querySelector('[data-chart="cpu"]')?.getAttribute('data-last-value') === '97.5', undefined, { timeout: 2000 })
  const tookMs = Date.now() - sent
  t.ok(tookMs < 1500, `chart updated ${tookMs} ms after the report`)
  t.equal(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker), 1, 'same page: no reload')
  t.match(await page.textContent('[data-chart="cpu"] .chart-latest'), /97\.5/)
  t.ok(await page.isVisible('[data-chart="disk"]'))
  t.ok(await page.isVisible('[data-chart="battery"]'), 'a laptop shows its battery')
  t.match(await page.textContent('.machine-side'), /ThinkPad T14 Gen 4/)
  await page.click('[data-range="6h"]')
  await page.waitForFunction(() => location.hash.includes('range=6h'))
  await page.click('[data-range="1h"]')
  await page.waitForFunction(() => Number(document.querySelector('[data-chart="cpu"]')?.getAttribute('data-points')) >= 30)
  await screenshot(page, '03-machine')

  const desktop = c.machines[2]
  await openSignedIn(page, c.url, c.token, `#/machines/${desktop.id}`)
  await page.waitForSelector('[data-chart="battery"][data-unavailable="battery"]')
  t.match(await page.textContent('[data-chart="battery"]'), /No battery/)
  t.match(await page.textContent('[data-chart="temp"]'), /No temperature sensors/)
  await screenshot(page, '04-machine-desktop')
})

t.test('an incident appears on the board live, and is acknowledged then resolved from it', async (t) => {
  const incidents = c.app.incidents
  if (incidents === undefined) throw new Error('the collector has no incident service (collector/incidents/plugin.ts not registered)')
  const m = c.machines[8] // a Windows machine: its disk is C:
  await openSignedIn(page, c.url, c.token, '#/incidents')
  await page.waitForSelector('.column-open')
  await page.evaluate(() => { (window as unknown as { __marker: number }).__marker = 1 })
  await incidents.submit([
    finding(m.id),
    finding(c.machines[6].id, { key: 'forecast:fs.used_pct{mount="C:"}', kind: 'forecast', severity: 'warning', title: 'Disk C: will be full in 3 days', impactAtMs: Date.now() + 3 * 86_400_000 })
  ])
  const card = page.locator('.column-open .incident-card', { hasText: 'Disk C: is 97% full' })
  await card.waitFor()
  t.equal(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker), 1, 'arrived without reload')
  t.match(await page.textContent('.column-open'), /will be full in 3 days/)
  t.match(await page.textContent('.column-open'), /Predicted impact/)

  await card.click()
  await page.waitForSelector('.panel [data-action="acknowledge"]')
  await page.waitForSelector('.panel [data-chart="evidence"]')
  await page.click('.panel [data-action="acknowledge"]')
  await page.fill('.action-form textarea', 'Calling the user')
  await page.click('.action-form button[type=submit]')
  await page.locator('.column-acknowledged .incident-card', { hasText: 'Disk C: is 97% full' }).waitFor()
  t.pass('moved to Acknowledged')
  await screenshot(page, '05-incident-board')

  await page.click('.panel [data-action="resolve"]')
  await page.fill('.action-form textarea[name=resolution]', 'Emptied the Windows update cache')
  await page.check('.action-form input[name=document]')
  await page.fill('.action-form textarea[name=cause]', 'Update cache grew to 40 GB')
  await screenshot(page, '06-incident-resolve')
  await page.click('.action-form button[type=submit]')
  await page.locator('.column-resolved .incident-card', { hasText: 'Disk C: is 97% full' }).waitFor()
  t.pass('moved to Resolved')
  const kb = await apiCall<{ total: number, items: Array<{ title: string }> }>(c, 'GET', '/api/v1/kb?q=update%20cache')
  t.ok(kb.items.some(a => a.title.includes('97% full')), 'the fix was documented in the knowledge base')
})

t.test('the knowledge base finds an article, shows it, and edits it', async (t) => {
  await apiCall(c, 'POST', '/api/v1/kb', {
    title: 'Outlook crashes after the 16.0.17 update',
    symptoms: 'Outlook closes a few seconds after opening; event 1000 in the application log.',
    cause: 'A faulty add-in loaded by the new version.',
    steps: ['Start Outlook with /safe', 'Disable the add-in', 'Restart Outlook'],
    tags: ['outlook', 'office'],
    findingKinds: ['change']
  })
  await openSignedIn(page, c.url, c.token, '#/kb')
  await page.waitForSelector('[data-view="kb"] .toolbar')
  await page.keyboard.press('/')
  await page.keyboard.type('outlook add-in')
  const hit = page.locator('.kb-results li', { hasText: 'Outlook crashes' })
  await hit.waitFor()
  await screenshot(page, '07-kb-search')
  await hit.locator('a').click()
  await page.waitForSelector('.kb-article ol.steps li')
  t.equal(await page.locator('.kb-article ol.steps li').count(), 3)
  await screenshot(page, '08-kb-article')
  await page.click('.kb-article a.button')
  await page.waitForSelector('.kb-form textarea[name=steps]')
  await page.fill('.kb-form textarea[name=steps]', 'Start Outlook with /safe\nDisable the add-in\nUpdate the add-in\nRestart Outlook')
  await page.click('.kb-form button[type=submit]')
  await page.waitForFunction(() => document.querySelectorAll('.kb-article ol.steps li').length === 4)
  t.pass('edited article shows four steps')
})

t.test('a dropped live connection shows a banner and recovers by itself', async (t) => {
  await openSignedIn(page, c.url, c.token)
  await page.waitForSelector('.live-dot[data-state="open"]')
  // Close every dashboard socket from the server side, as a collector restart would.
  c.app.live.close()
  await page.waitForSelector('[data-testid=live-banner]:not([hidden])')
  t.match(await page.textContent('[data-testid=live-banner]'), /reconnecting/)
  await screenshot(page, '09-reconnecting')
  await page.waitForSelector('[data-testid=live-banner][hidden]', { state: 'attached', timeout: 15_000 })
  await page.waitForSelector('.live-dot[data-state="open"]')
  // and live events flow again
  const m = c.machines[0]
  sendReport(c.app, m, { cpuPct: 88.8 })
  await page.waitForFunction(() => document.querySelector('.vrow[data-hostname="pc-00000"]')?.textContent?.includes('88.8') === true || document.querySelector('.vrow[data-hostname="pc-00000"]')?.textContent?.includes('89') === true)
  t.pass('rows update again after reconnecting')
})

t.test('the UI speaks French when the browser does, and in TV mode and dark theme stays readable', async (t) => {
  const fr = await launchBrowser({ locale: 'fr-FR', colorScheme: 'dark' })
  t.teardown(fr.close)
  const p = await fr.context.newPage()
  p.setDefaultTimeout(BOUND_MS)
  await openSignedIn(p, c.url, c.token)
  await p.waitForSelector('.vrow[data-machine]')
  t.equal(await p.textContent('[data-nav="o"]'), 'Parc')
  t.match(await p.textContent('.overview .count'), /60 machines/)
  t.match(await p.textContent('.vhead'), /Dernier contact/)
  t.match(await p.textContent('.chips'), /Hors ligne/)
  t.match(await p.textContent('.vlist'), /il y a|maintenant/, 'relative times in French')
  t.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'dark', 'follows prefers-color-scheme')
  await screenshot(p, '10-overview-fr-dark')
  await openSignedIn(p, c.url, c.token, `#/machines/${c.machines[3].id}`)
  await p.waitForFunction(() => Number(document.querySelector('[data-chart="cpu"]')?.getAttribute('data-points')) >= 30)
  await screenshot(p, '11-machine-fr-dark')
  await openSignedIn(p, c.url, c.token, '#/incidents')
  await p.waitForSelector('.column-open .incident-card')
  await screenshot(p, '12-incidents-fr-dark')
  await openSignedIn(p, c.url, c.token, '#/tv')
  await p.waitForSelector('.tile[data-status="healthy"]')
  t.match(await p.textContent('.tv'), /Santé du parc/)
  await screenshot(p, '13-tv-fr-dark')

  // The toggle switches language without a reload.
  await p.keyboard.press('o')
  await p.waitForSelector('.vrow[data-machine]')
  await p.click('[data-testid=lang-toggle]')
  await p.waitForFunction(() => document.querySelector('[data-nav="o"]')?.textContent === 'Fleet')
  t.equal(await p.evaluate(() => document.documentElement.lang), 'en')
  // ?lang=fr wins over the saved choice
  await p.goto(c.url + '/?lang=fr#/tv')
  await p.waitForSelector('.tile[data-status="healthy"]')
  t.match(await p.textContent('.tv'), /Santé du parc/)
})

t.test('the light TV mode and no page errors along the way', async (t) => {
  await openSignedIn(page, c.url, c.token, '#/tv')
  await page.waitForSelector('.tile[data-status="healthy"]')
  await page.waitForSelector('.tv-list li')
  await screenshot(page, '14-tv')
  t.same(pageErrors, [], 'no uncaught errors in the page')
  const res = await page.request.get(c.url + '/')
  t.match(res.headers()['content-security-policy'] ?? '', /script-src 'self'.*frame-ancestors 'none'/, 'the page was served under the strict CSP')
  t.same(cspViolations, [], 'the UI worked through every view without one CSP violation')
})
