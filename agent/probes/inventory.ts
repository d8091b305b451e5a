/**
 * Software inventory: installed applications with versions and the count of
 * pending OS updates, from the platform's own package database. Runs at start
 * and every 6 h. The agent sends the app list only when its hash changed
 * since the collector last acknowledged one (see agent.ts).
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import type { App, NotMeasured, Sample } from '../sample.js'
import { CommandError, runCommand } from './run-command.js'
import { readText } from './read-file.js'
import { normalizeApps, parseAptSimulate, parseDnfCheckUpdate, parseDpkg, parseRpm, parseSystemProfiler, parseUpdateNotifier, parseWindowsUninstall } from './inventory-parsers.js'
import type { Probe, ProbeEnv } from './probe.js'

/** Registry uninstall keys: machine-wide (64- and 32-bit) and every loaded user profile. */
export const WINDOWS_INVENTORY_SCRIPT = [
  '[Console]::OutputEncoding=[Text.Encoding]::UTF8',
  "$ErrorActionPreference='SilentlyContinue'",
  "$k='HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','Registry::HKEY_USERS\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
  'Get-ItemProperty $k | Where-Object { $_.DisplayName -and -not $_.SystemComponent -and -not $_.ParentKeyName } | Select-Object DisplayName,DisplayVersion,Publisher | ConvertTo-Json -Compress'
].join('; ')

/** Stable hash of an app list (order-independent once normalized). */
export function inventoryHash (apps: readonly App[]): string {
  const h = createHash('sha256')
  for (const a of normalizeApps(apps)) h.update(`${a.source ?? ''}\u0000${a.name}\u0000${a.version}\n`)
  return h.digest('hex')
}

function has (file: string, root: string): boolean {
  try { fs.accessSync(`${root === '/' ? '' : root}${file}`); return true } catch { return false }
}

export function inventoryProbe (env: ProbeEnv & { everySec?: number } = {}): Probe {
  const root = env.root ?? '/'
  const platform = env.platform ?? process.platform
  const run = env.run ?? runCommand
  const opts = { timeoutMs: 90_000, maxBytes: 64 * 1024 * 1024 }

  async function apps (): Promise<App[]> {
    if (platform === 'darwin') return parseSystemProfiler((await run('system_profiler', ['SPApplicationsDataType', '-json', '-detailLevel', 'mini'], opts)).stdout)
    if (platform === 'win32') {
      const r = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', WINDOWS_INVENTORY_SCRIPT], opts)
      return parseWindowsUninstall(r.stdout)
    }
    // A Linux machine may have both databases (alien, rpm on Debian); the native one comes first.
    if (has('/var/lib/dpkg/status', root)) {
      return parseDpkg((await run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'], opts)).stdout)
    }
    try {
      return parseRpm((await run('rpm', ['-qa', '--queryformat', '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'], opts)).stdout)
    } catch (err) {
      if (err instanceof CommandError && err.code === 'ENOENT') throw new Error('no dpkg or rpm package database found', { cause: err })
      throw err
    }
  }

  async function pendingUpdates (): Promise<number | NotMeasured> {
    const reason = (r: string): NotMeasured => ({ probe: 'updates', reason: r })
    if (platform === 'darwin') return reason('not read on macOS: softwareupdate -l contacts Apple and can take minutes')
    if (platform === 'win32') return reason('not read on Windows yet (the Windows Update API search takes minutes)')
    const notifier = await readText(root, 'var/lib/update-notifier/updates-available')
    const fromNotifier = notifier === undefined ? undefined : parseUpdateNotifier(notifier)
    if (fromNotifier !== undefined) return fromNotifier
    try {
      if (has('/var/lib/dpkg/status', root)) {
        // Simulation only: no lock, no download, reads the package lists apt already has.
        const r = await run('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'upgrade'], { timeoutMs: 60_000, maxBytes: 16 * 1024 * 1024 })
        return r.code === 0 ? parseAptSimulate(r.stdout) : reason(`apt-get -s upgrade exited ${r.code ?? 'on a signal'}: ${r.stderr.trim().slice(0, 200)}`)
      }
      // -C: from the metadata cache only, never the network.
      const r = await run('dnf', ['-C', '-q', 'check-update'], { timeoutMs: 60_000, maxBytes: 16 * 1024 * 1024 })
      if (r.code === 0) return 0
      if (r.code === 100) return parseDnfCheckUpdate(r.stdout)
      return reason(`dnf check-update exited ${r.code ?? 'on a signal'}`)
    } catch (err) {
      return reason((err as Error).message)
    }
  }

  return {
    name: 'inventory',
    timeoutMs: 180_000,
    everySec: env.everySec ?? 6 * 3600,
    async collect (): Promise<Sample> {
      const list = normalizeApps(await apps())
      const pending = await pendingUpdates()
      if (typeof pending === 'number') {
        return { metrics: [{ name: 'os.pending_updates', unit: 'count', value: pending }], inventory: { apps: list, pendingUpdates: pending } }
      }
      return { metrics: [], unavailable: [pending], inventory: { apps: list } }
    }
  }
}
