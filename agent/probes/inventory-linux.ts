/**
 * Software on Linux: dpkg or rpm; pending updates from update-notifier, an apt
 * simulation or dnf's metadata cache (never the network, never a lock).
 */
import fs from 'node:fs'
import type { App, NotMeasured } from '../sample.js'
import { CommandError, runCommand } from './run-command.js'
import { readText } from './read-file.js'
import { parseAptSimulate, parseDnfCheckUpdate, parseDpkg, parseRpm, parseUpdateNotifier } from './inventory-parsers.js'
import type { Collect, ProbeEnv } from './probe.js'
import { collectInventory, LIST_APPS } from './inventory.js'

function has (file: string, root: string): boolean {
  try { fs.accessSync(`${root === '/' ? '' : root}${file}`); return true } catch { return false }
}

export function linuxInventory (env: ProbeEnv = {}): Collect {
  const root = env.root ?? '/'
  const run = env.run ?? runCommand
  return collectInventory({
    async apps (): Promise<App[]> {
      // A Linux machine may have both databases (alien, rpm on Debian); the native one comes first.
      if (has('/var/lib/dpkg/status', root)) {
        return parseDpkg((await run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'], LIST_APPS)).stdout)
      }
      try {
        return parseRpm((await run('rpm', ['-qa', '--queryformat', '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'], LIST_APPS)).stdout)
      } catch (err) {
        if (err instanceof CommandError && err.code === 'ENOENT') throw new Error('no dpkg or rpm package database found', { cause: err })
        throw err
      }
    },
    async pendingUpdates (): Promise<number | NotMeasured> {
      const reason = (r: string): NotMeasured => ({ probe: 'updates', reason: r })
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
  })
}
