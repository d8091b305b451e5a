/**
 * Signing in with a technician account in the real browser: the session cookie
 * carries the API and the live socket, and changes need the CSRF token.
 */
import t from 'tap'
import { launchBrowser } from '../helpers/browser.js'
import { screenshot, startDashboardCollector } from './setup.js'

t.test('a technician signs in with username and password; the session cookie carries the API and the live socket; a change without the CSRF token is refused', async (t) => {
  const c = await startDashboardCollector({ count: 5, history: 5, intervalMs: 60_000 })
  t.teardown(() => c.close())
  const admin = (await c.app.apiTokens.create('admin', 'setup admin')).token
  const created = await fetch(c.url + '/api/v1/admin/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'camille', password: 'Correct-horse-battery-9', role: 'technician' })
  })
  t.equal(created.status, 201, await created.clone().text())
  const browser = await launchBrowser()
  t.teardown(() => browser.close())
  const page = await browser.context.newPage()
  page.setDefaultTimeout(10_000)

  await page.goto(c.url + '/')
  await page.waitForSelector('form.signin-account')
  await page.fill('#username', 'camille')
  await page.fill('#password', 'wrong-password')
  await page.click('form.signin-account button[type=submit]')
  await page.waitForSelector('form.signin-account .error:has-text("refused")')
  t.pass('a wrong password is refused on the page')
  await screenshot(page, '15-signin-account')

  await page.fill('#password', 'Correct-horse-battery-9')
  await page.click('form.signin-account button[type=submit]')
  await page.waitForSelector('.vrow[data-machine]')
  t.equal(await page.locator('.vrow[data-machine]').count(), 5, 'the fleet is listed through the session cookie')
  await page.waitForSelector('.live-dot[data-state="open"]')
  t.pass('the live socket connects with the session cookie, no token in the URL')
  const cookies = await browser.context.cookies()
  const session = cookies.find(k => k.name === 'vigie_session')
  t.ok(session?.httpOnly, 'the session cookie is HttpOnly: page scripts cannot read it')
  t.equal(session?.sameSite, 'Strict')

  const statuses = await page.evaluate(async () => {
    const csrf = (JSON.parse(sessionStorage.getItem('vigie.session') ?? '{}') as { csrf?: string }).csrf ?? ''
    const article = { title: 'Printer queue stuck', symptoms: 'Jobs wait forever', cause: 'Spooler hung', steps: ['Restart the spooler'], tags: ['printer'], findingKinds: [] }
    const without = await fetch('api/v1/kb', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(article) })
    const withToken = await fetch('api/v1/kb', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(article) })
    return [without.status, withToken.status]
  })
  t.equal(statuses[0], 403, 'a change without the CSRF token is refused')
  t.equal(statuses[1], 201, 'the same change with it is accepted')

  await page.click('text=Sign out')
  await page.waitForSelector('form.signin-account')
  const after = await page.evaluate(async () => (await fetch('api/v1/machines?limit=1')).status)
  t.equal(after, 401, 'signing out ends the session on the collector')
})
