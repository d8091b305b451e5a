/**
 * The detection engine in its own thread (see remote.ts for why and for the
 * messages). Everything here is the engine's own work: rebuilding each report's
 * metrics from the layout and values the collector sent, observing them, the
 * periodic tick, and serialising state for the collector to save.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { MetricValue, Report } from '../../protocol/index.js'
import { DetectionEngine } from './engine.js'
import type { Layout, WorkerIn, WorkerOut } from './remote.js'

const port = parentPort!
const engine = new DetectionEngine({ maxSeriesPerMachine: (workerData as { maxSeriesPerMachine: number }).maxSeriesPerMachine })
const layouts = new Map<string, Layout>()

function send (msg: WorkerOut): void { port.postMessage(msg) }

function silenceSnapshot (nowMs: number): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = []
  for (const id of engine.machineIds()) {
    const e = engine.silenceExpected(id, nowMs)
    if (e !== undefined) out.push([id, e])
  }
  return out
}

function onMessage (msg: WorkerIn): void {
  switch (msg.type) {
    case 'reports': {
      const findings = []
      for (const it of msg.items) {
        if (it.layout !== undefined) layouts.set(it.machineId, it.layout)
        const layout = layouts.get(it.machineId)
        if (layout === undefined || layout.length !== it.values.length) {
          send({ type: 'warn', message: 'detection input without its layout', machineId: it.machineId })
          continue
        }
        const metrics: MetricValue[] = new Array(layout.length)
        for (let i = 0; i < layout.length; i++) {
          const [name, unit, labels] = layout[i]
          metrics[i] = labels === undefined ? { name, unit, value: it.values[i] } : { name, unit, value: it.values[i], labels }
        }
        const report = {
          sampledAt: new Date(it.atMs).toISOString(),
          host: it.host,
          metrics,
          inventory: it.apps === undefined ? undefined : { apps: it.apps }
        } as unknown as Report
        try {
          for (const f of engine.observeReport(it.machineId, report, it.receivedMs, it.host.group)) findings.push(f)
        } catch (err) {
          send({ type: 'warn', message: `detection failed on a report: ${(err as Error).message}`, machineId: it.machineId })
        }
      }
      if (findings.length > 0) send({ type: 'findings', findings })
      send({ type: 'done', reports: msg.items.length })
      return
    }
    case 'tick': {
      let findings
      try {
        findings = engine.tick(msg.nowMs)
      } catch (err) {
        send({ type: 'warn', message: `detection tick failed: ${(err as Error).message}` })
        return
      }
      if (findings.length > 0) send({ type: 'findings', findings })
      send({ type: 'silence', entries: silenceSnapshot(msg.nowMs) })
      return
    }
    case 'import': {
      for (const [id, json] of msg.machines) {
        try {
          engine.importMachine(id, JSON.parse(json))
          layouts.delete(id)
        } catch (err) {
          send({ type: 'warn', message: `detection state of a machine unreadable; it learns again: ${(err as Error).message}`, machineId: id })
        }
      }
      if (msg.global !== undefined) {
        try { engine.importGlobal(JSON.parse(msg.global)) } catch (err) { send({ type: 'warn', message: `fleet detection state unreadable: ${(err as Error).message}` }) }
      }
      send({ type: 'silence', entries: silenceSnapshot(msg.nowMs) })
      return
    }
    case 'export': {
      const machines: Array<[string, string]> = msg.machines.map(id => [id, JSON.stringify(engine.exportMachine(id))])
      send({ type: 'reply', id: msg.id, value: { machines, global: msg.global ? JSON.stringify(engine.exportGlobal()) : undefined } })
      return
    }
    case 'sync':
      send({ type: 'reply', id: msg.id, value: engine.seriesCount })
  }
}

port.on('message', onMessage)
send({ type: 'ready' })
