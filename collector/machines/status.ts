/**
 * A machine's status as the fleet overview shows it. Connectivity comes from the
 * last report; health (warning / critical) and "offline as expected" come from
 * detection and incidents, given at construction.
 */

export interface Worst { severity: 'info' | 'warning' | 'critical', title: string, incidentId?: string }

/** What status needs to know of a machine. */
export interface MachineSeen { id: string, lastSeenMs: number }

export type MachineStatus = 'healthy' | 'warning' | 'critical' | 'offline-expected' | 'silent-unexpected' | 'offline'

export interface HealthProvider {
  /** worst open incident severity for the machine, if any */
  worstSeverity?: (machineId: string) => Promise<Worst | undefined>
  /** the same for every machine at once (used by the fleet list); machines without an open incident are absent */
  worstAll?: () => Promise<Map<string, Worst>>
  /** whether silence now is usual for this machine (learned online hours) */
  silenceExpected?: (machineId: string, nowMs: number) => boolean | undefined
}

export class MachineStatusBoard {
  readonly #intervalMs: number
  readonly #provider: HealthProvider

  constructor (reportIntervalSec: number, provider: HealthProvider = {}) {
    this.#intervalMs = reportIntervalSec * 1000
    this.#provider = provider
  }

  /** A machine is online while its last report is younger than three intervals plus a minute. */
  isOnline (m: MachineSeen, nowMs: number): boolean {
    return nowMs - m.lastSeenMs <= 3 * this.#intervalMs + 60_000
  }

  /** Worst open incident of every machine, in one call (machines without one are absent). */
  async worstAll (): Promise<Map<string, Worst>> {
    return await this.#provider.worstAll?.() ?? new Map()
  }

  /** Worst open incident of one machine. */
  async worstOf (machineId: string): Promise<Worst | undefined> {
    return await this.#provider.worstSeverity?.(machineId)
  }

  /** The status, from the last report and the machine's worst open incident (worstOf or worstAll). */
  statusOf (m: MachineSeen, nowMs: number, worst: Worst | undefined): { status: MachineStatus, worst?: Worst } {
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
