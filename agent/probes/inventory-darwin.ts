/** Software on macOS: system_profiler's application list; pending updates are not read. */
import { runCommand } from './run-command.js'
import { parseSystemProfiler } from './inventory-parsers.js'
import type { Collect, ProbeEnv } from './probe.js'
import { collectInventory, LIST_APPS } from './inventory.js'

export function darwinInventory (env: ProbeEnv = {}): Collect {
  const run = env.run ?? runCommand
  return collectInventory({
    apps: async () => parseSystemProfiler((await run('system_profiler', ['SPApplicationsDataType', '-json', '-detailLevel', 'mini'], LIST_APPS)).stdout),
    pendingUpdates: async () => ({ probe: 'updates', reason: 'not read on macOS: softwareupdate -l contacts Apple and can take minutes' })
  })
}
