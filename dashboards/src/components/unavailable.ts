/** A probe's "unavailable" reason in words the viewer reads ("No battery", "No temperature sensors"). */
import { t } from '../i18n/index.js'
import type { Unavailable } from '../types.js'

export function probeName (probe: string): string {
  if (probe === 'battery') return t('probe.battery')
  if (probe === 'temperatures') return t('probe.temperatures')
  return probe
}

export function unavailableText (u: Unavailable): string {
  const reason = u.reason.toLowerCase()
  if (u.probe === 'battery' && reason.includes('no battery')) return t('reason.noBattery')
  if (u.probe === 'temperatures' && reason.includes('no temperature sensor')) return t('reason.noTemp')
  return `${probeName(u.probe)}: ${u.reason}`
}
