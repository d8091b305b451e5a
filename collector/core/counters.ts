/** Monotonic counters exposed on /metrics in Prometheus text format. */
export const COUNTER_HELP = {
  reports_received: 'reports received from agents (HTTP and WebSocket)',
  reports_stored: 'reports stored for the first time',
  reports_duplicate: 'reports already stored (resends after a lost ack)',
  reports_rejected: 'reports refused (invalid, wrong agent, store unavailable)',
  store_errors: 'ingest transactions the store refused',
  stream_frames_rejected: 'WebSocket frames refused (garbage, invalid, too large)',
  enrollments: 'agents enrolled',
  auth_failures: 'requests refused for a missing, unknown or revoked token',
  sign_in_throttled: 'sign-in attempts answered 429 before any password was checked',
  detection_ticks: 'detection ticks (offline silence, fleet outliers, change correlation) whose findings reached the incidents',
  detection_skipped: 'stored reports that skipped detection because it was too far behind (stored all the same)',
  connections_refused: 'connections closed at once: their address had VIGIE_MAX_CONNECTIONS_PER_IP open already',
  series_dropped_global_cap: 'points of new series dropped because VIGIE_MAX_SERIES_TOTAL series exist',
  live_clients_dropped: 'live dashboard sockets cut off for not reading (VIGIE_LIVE_MAX_BUFFERED_BYTES unsent, or the live queue full)',
  incidents_folded: 'findings folded into a machine\'s "too many incidents" incident (VIGIE_INCIDENT_MAX_OPEN_PER_MACHINE)'
} as const

export type CounterName = keyof typeof COUNTER_HELP

export class Counters {
  readonly #values = new Map<CounterName, number>()

  inc (name: CounterName, by = 1): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + by)
  }

  get (name: CounterName): number {
    return this.#values.get(name) ?? 0
  }

  /** Prometheus exposition of every counter, zeros included. */
  render (): string {
    let out = ''
    for (const name of Object.keys(COUNTER_HELP) as CounterName[]) {
      out += `# HELP vigie_${name}_total ${COUNTER_HELP[name]}\n# TYPE vigie_${name}_total counter\nvigie_${name}_total ${this.get(name)}\n`
    }
    return out
  }
}
