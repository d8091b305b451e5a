/** Software on Windows: the registry's uninstall keys through PowerShell; pending updates are not read. */
import { runCommand } from './run-command.js'
import { parseWindowsUninstall } from './inventory-parsers.js'
import type { Collect, ProbeEnv } from './probe.js'
import { collectInventory, LIST_APPS } from './inventory.js'

/** Registry uninstall keys: machine-wide (64- and 32-bit) and every loaded user profile. */
export const WINDOWS_INVENTORY_SCRIPT = [
  '[Console]::OutputEncoding=[Text.Encoding]::UTF8',
  "$ErrorActionPreference='SilentlyContinue'",
  "$k='HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','Registry::HKEY_USERS\\*\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'",
  'Get-ItemProperty $k | Where-Object { $_.DisplayName -and -not $_.SystemComponent -and -not $_.ParentKeyName } | Select-Object DisplayName,DisplayVersion,Publisher | ConvertTo-Json -Compress'
].join('; ')

export function win32Inventory (env: ProbeEnv = {}): Collect {
  const run = env.run ?? runCommand
  return collectInventory({
    async apps () {
      const r = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', WINDOWS_INVENTORY_SCRIPT], LIST_APPS)
      return parseWindowsUninstall(r.stdout)
    },
    pendingUpdates: async () => ({ probe: 'updates', reason: 'not read on Windows yet (the Windows Update API search takes minutes)' })
  })
}
