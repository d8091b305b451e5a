/** A machine's identity at enrollment: when two enrollments with one machine key are the same hardware. */
import type { EnrollHardware } from '../../protocol/index.js'

export type EnrolledHardware = EnrollHardware & { hostname?: string }

/**
 * Two enrollments' hardware differ when a fact both state differs: serial, model,
 * manufacturer, host name, or network adapters with no address in common.
 * Unknown on either side is not a difference.
 */
export function hardwareDiffers (x: EnrolledHardware | null, y: EnrolledHardware | null): boolean {
  if (x === null || y === null) return false
  for (const k of ['serial', 'model', 'manufacturer', 'hostname'] as const) {
    if (x[k] !== undefined && y[k] !== undefined && x[k] !== y[k]) return true
  }
  if (x.macs !== undefined && y.macs !== undefined && x.macs.length > 0 && y.macs.length > 0) {
    const set = new Set(x.macs.map(m => m.toLowerCase()))
    if (!y.macs.some(m => set.has(m.toLowerCase()))) return true
  }
  return false
}
