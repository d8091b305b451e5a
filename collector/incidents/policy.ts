/**
 * What the incident lifecycle is tuned by (holds, follow-up, escalation, flapping,
 * fleet grouping, evidence, the per-machine cap), and the names it reserves.
 */

/** Fleet-wide parents carry this machine id (the detection engine's FLEET_MACHINE_ID). */
export const FLEET = '*'

export interface IncidentPolicy {
  /** a cleared condition must stay clear this long before auto-resolving, ms */
  holdMs: number
  /** follow-up watch after a technician's resolution, ms */
  verifyMs: number
  /** unacknowledged this long → severity raised and notified again, ms (0 = never) */
  escalateMs: number
  /** at most this many escalations per incident */
  maxEscalations: number
  /** this many opens of one (machine, key) within `flapWindowMs` mark it flapping */
  flapCount: number
  flapWindowMs: number
  /** the same key opening on this many machines within `fleetWindowMs` is grouped under a parent */
  fleetMin: number
  fleetWindowMs: number
  /** series evidence: this long before detection, at most this many points */
  evidenceWindowMs: number
  evidenceMaxPoints: number
  /**
   * active incidents one machine may have of its own; a finding that would open
   * (or reopen) one more is folded into that machine's single "too many
   * incidents" incident (key OVERFLOW_KEY) instead
   */
  maxOpenPerMachine: number
}

export const DEFAULT_POLICY: IncidentPolicy = {
  holdMs: 300_000,
  verifyMs: 86_400_000,
  escalateMs: 1_800_000,
  maxEscalations: 2,
  flapCount: 4,
  flapWindowMs: 3_600_000,
  fleetMin: 5,
  fleetWindowMs: 600_000,
  evidenceWindowMs: 3_600_000,
  evidenceMaxPoints: 120,
  maxOpenPerMachine: 50
}

/** Key of a machine's "too many incidents" incident (one at most, active). */
export const OVERFLOW_KEY = 'vigie.incidents.overflow'
/** Keys of folded findings listed in the overflow incident's evidence, at most. */
export const OVERFLOW_KEYS_SHOWN = 20

/** Who did what when no technician did: the collector itself. */
export const SYSTEM = 'vigie'

export const iso = (ms: number): string => new Date(ms).toISOString()
