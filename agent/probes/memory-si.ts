/** Memory and swap on macOS and Windows, from systeminformation. */
import { si } from './si.js'
import type { Collect } from './probe.js'
import { memorySample } from './memory.js'

export function siMemory (): Collect {
  return async () => {
    const s = await (await si()).mem()
    return memorySample({ total: s.total, available: s.available, swapTotal: s.swaptotal, swapFree: s.swapfree })
  }
}
