/**
 * A machine's status as the fleet overview shows it. Connectivity comes from the
 * last report; health (warning / critical) and "offline as expected" come from
 * detection and incidents, which register providers here.
 */
import type { MachineRow } from '../store/sqlite/registry.js'

export type MachineStatus = 'healthy' | 'warning' | 'critical' | 'offline-expected' | 'silent-unexpected' | 'offline'

export interface HealthProvider {
  /** worst open incident severity for the machine, if any */
  worstSeverity?: (machineId: string) => { severity: 'info' | 'warning' | 'critical', title: string, incidentId?: string } | undefined
  /** whether silence now is usual for this machine (learned online hours) */
  silenceExpected?: (machineId: string, nowMs: number) => boolean | undefined
}

export class MachineStatusBoard {
  readonly #intervalMs: number
  #provider: HealthProvider = {}

  constructor (reportIntervalSec: number) {
    this.#intervalMs = reportIntervalSec * 1000
  }

  setProvider (p: HealthProvider): void { this.#provider = p }

  /** A machine is online while its last report is younger than three intervals plus a minute. */
  isOnline (m: MachineRow, nowMs: number): boolean {
    return nowMs - m.lastSeenMs <= 3 * this.#intervalMs + 60_000
  }

  statusOf (m: MachineRow, nowMs: number): { status: MachineStatus, worst?: { severity: string, title: string, incidentId?: string } } {
    const worst = this.#provider.worstSeverity?.(m.id)
    if (!this.isOnline(m, nowMs)) {
      const expected = this.#provider.silenceExpected?.(m.id, nowMs)
      const status: MachineStatus = expected === true ? 'offline-expected' : expected === false ? 'silent-unexpected' : 'offline'
      return worst === undefined ? { status } : { status, worst }
    }
    if (worst?.severity === 'critical') return { status: 'critical', worst }
    if (worst?.severity === 'warning') return { status: 'warning', worst }
    return worst === undefined ? { status: 'healthy' } : { status: 'healthy', worst }
  }
}

/** Sort rank: worst first. */
export const STATUS_RANK: Record<MachineStatus, number> = {
  critical: 0, 'silent-unexpected': 1, warning: 2, offline: 3, healthy: 4, 'offline-expected': 5
}
