/**
 * Fast report bodies for load generators: each simulated machine's report is
 * serialised once as a template, then only seq, agentId and the timestamps are
 * spliced in per request, so the load generator spends its core on sending, not
 * on JSON.stringify.
 */
import { createFleet } from '../sim/fleet.js'
import { hostFactsOf, installedApps, inventoryHash, machineState, metricsOf, unavailableOf } from '../sim/behaviour.js'
import type { Report } from '../../protocol/index.js'

const SEQ_MARK = 987654321987
const AT_MARK = '2099-01-01T00:00:00.000Z'
const CLOCK_MARK = '2099-02-02T00:00:00.000Z'
const ID_MARK = 'AGENT_ID_MARK'

export interface Template { parts: string[] }

/** One template per machine: [before seq, before sampledAt, before agentClock, rest]. */
export function reportTemplates (seed: number, count: number, atMs = Date.now()): Template[] {
  return createFleet(seed, count, { schedule: 'always-on' }).map(m => {
    const apps = installedApps(m, atMs)
    const r: Report = {
      v: 1, agentId: ID_MARK, seq: SEQ_MARK, sampledAt: AT_MARK, agentClock: CLOCK_MARK,
      host: hostFactsOf(m, atMs), metrics: metricsOf(m, machineState(m, atMs), atMs), unavailable: unavailableOf(m),
      inventory: { hash: inventoryHash(apps) }, droppedReports: 0
    }
    const json = JSON.stringify(r)
    const parts: string[] = []
    let rest = json
    for (const mark of [`"${ID_MARK}"`, String(SEQ_MARK), `"${AT_MARK}"`, `"${CLOCK_MARK}"`]) {
      const i = rest.indexOf(mark)
      parts.push(rest.slice(0, i))
      rest = rest.slice(i + mark.length)
    }
    parts.push(rest)
    return { parts }
  })
}

/** A report as JSON text from a template. */
export function fillTemplate (t: Template, agentId: string, seq: number, sampledAt: string, agentClock: string): string {
  const p = t.parts
  return p[0] + '"' + agentId + '"' + p[1] + seq + p[2] + '"' + sampledAt + '"' + p[3] + '"' + agentClock + '"' + p[4]
}
