/**
 * systeminformation, loaded on first use. On Linux the hot probes never call
 * it, so the agent does not pay for evaluating its ~1 MB of code at start.
 */
import type Si from 'systeminformation'

let loaded: typeof Si | undefined

export async function si (): Promise<typeof Si> {
  loaded ??= (await import('systeminformation')).default
  return loaded
}
