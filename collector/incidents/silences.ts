/**
 * Silences and maintenance windows: while one matches, a finding opens no
 * incident and no escalation fires. A silence matches when every matcher it sets
 * matches (machine id, group, finding-key pattern) and now is within [from, until).
 */
import { VigieError } from '../core/errors.js'
import { matchesKeyPattern } from './key-pattern.js'
import type { Silence } from './rows.js'

export interface SilenceInput {
  machineId?: string
  group?: string
  keyPattern?: string
  /** RFC 3339; default now */
  from?: string
  /** RFC 3339 */
  until: string
  reason: string
}

/** Checks and converts an API body; throws VIGIE_ERR_VALIDATION naming the field. */
export function validateSilence (input: SilenceInput, nowMs: number): Pick<Silence, 'machineId' | 'group' | 'keyPattern' | 'fromMs' | 'untilMs'> {
  if (input.machineId === undefined && input.group === undefined && input.keyPattern === undefined) {
    throw new VigieError('VIGIE_ERR_VALIDATION', 'a silence needs at least one of machineId, group, keyPattern (use keyPattern "*" for everything)', { path: '/machineId' })
  }
  const fromMs = input.from === undefined ? nowMs : Date.parse(input.from)
  const untilMs = Date.parse(input.until)
  if (!Number.isFinite(fromMs)) throw new VigieError('VIGIE_ERR_VALIDATION', 'from must be an RFC 3339 date-time', { path: '/from' })
  if (!Number.isFinite(untilMs)) throw new VigieError('VIGIE_ERR_VALIDATION', 'until must be an RFC 3339 date-time', { path: '/until' })
  if (untilMs <= fromMs) throw new VigieError('VIGIE_ERR_VALIDATION', 'until must be after from', { path: '/until' })
  if (untilMs <= nowMs) throw new VigieError('VIGIE_ERR_VALIDATION', 'until is in the past', { path: '/until' })
  return {
    ...(input.machineId !== undefined ? { machineId: input.machineId } : {}),
    ...(input.group !== undefined ? { group: input.group } : {}),
    ...(input.keyPattern !== undefined ? { keyPattern: input.keyPattern } : {}),
    fromMs,
    untilMs
  }
}

/** The first silence covering this finding at `nowMs`, if any. */
export function findSilence (silences: readonly Silence[], target: { machineId: string, group?: string, key: string }, nowMs: number): Silence | undefined {
  return silences.find((s) =>
    nowMs >= s.fromMs && nowMs < s.untilMs &&
    (s.machineId === undefined || s.machineId === target.machineId) &&
    (s.group === undefined || s.group === target.group) &&
    (s.keyPattern === undefined || matchesKeyPattern(s.keyPattern, target.key)))
}
