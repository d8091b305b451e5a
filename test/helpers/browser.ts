/**
 * Headless Debian Chromium for dashboard tests and the overview bench, driven by
 * playwright-core (which never downloads a browser). A missing /usr/bin/chromium
 * fails with a clear message; it never skips (CI: `apt-get install -y chromium`).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_BIN = '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

export interface Browser {
  /** one persistent context with a fresh profile; open pages with `context.newPage()` */
  context: BrowserContext
  close: () => Promise<void>
}

export interface LaunchOptions {
  /** browser UI language, e.g. 'fr-FR' (navigator.language) */
  locale?: string
  /** e.g. 'Europe/Paris' */
  timezoneId?: string
  colorScheme?: 'light' | 'dark'
  viewport?: { width: number, height: number }
}

/** Launches chromium with a fresh --user-data-dir, removed again by close(). */
export async function launchBrowser (opts: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`${CHROMIUM_BIN} is missing: install Debian's browser with \`apt-get install -y chromium\` (the dashboard tests drive it through playwright-core and never download one)`)
  }
  const profile = await mkdtemp(join(tmpdir(), 'vigie-chromium-'))
  let context: BrowserContext
  try {
    // launchPersistentContext is how playwright passes --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_BIN,
      args: CHROMIUM_ARGS,
      headless: true,
      locale: opts.locale ?? 'en-US',
      timezoneId: opts.timezoneId ?? 'Europe/Paris',
      colorScheme: opts.colorScheme ?? 'light',
      viewport: opts.viewport ?? { width: 1440, height: 900 }
    })
  } catch (err) {
    await rm(profile, { recursive: true, force: true })
    throw err
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => {})
      await rm(profile, { recursive: true, force: true })
    }
  }
}
