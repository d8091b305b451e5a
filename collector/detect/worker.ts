/**
 * The detection engine in its own thread (see remote.ts for why and for the
 * messages). Everything here is the engine's own work: observing each report's
 * values with the layout the collector sent for its machine, the
 * periodic tick, and serialising state for the collector to save.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { MetricLayout } from '../store/metric-layout.js'
import { DetectionEngine } from './engine.js'
import type { HostInput, WorkerIn, WorkerOut } from './remote.js'

const port = parentPort!
const engine = new DetectionEngine({ maxSeriesPerMachine: (workerData as { maxSeriesPerMachine: number }).maxSeriesPerMachine })
const layouts = new Map<string, MetricLayout>()
const hosts = new Map<string, HostInput>()

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
      const b = msg.batch
      const findings = []
      let l = 0
      let h = 0
      let a = 0
      for (let i = 0; i < b.machines.length; i++) {
        const machineId = b.machines[i]
        if (l < b.layouts.length && b.layouts[l][0] === i) layouts.set(machineId, b.layouts[l++][1])
        if (h < b.hosts.length && b.hosts[h][0] === i) hosts.set(machineId, b.hosts[h++][1])
        const apps = a < b.apps.length && b.apps[a][0] === i ? b.apps[a++][1] : undefined
        const layout = layouts.get(machineId)
        const from = b.offsets[i]
        const n = b.offsets[i + 1] - from
        if (layout === undefined || layout.names.length !== n) {
          send({ type: 'warn', message: 'detection input without its layout', machineId })
          continue
        }
        // The layout and host objects stay the same until the collector sends new
        // ones, which is what lets the engine skip its per-metric lookups.
        let host = hosts.get(machineId)
        if (host === undefined) { host = {}; hosts.set(machineId, host) }
        try {
          for (const f of engine.observePacked(machineId, layout, b.values, from, b.atMs[i], b.receivedMs[i], host, apps)) findings.push(f)
        } catch (err) {
          send({ type: 'warn', message: `detection failed on a report: ${(err as Error).message}`, machineId })
        }
      }
      if (findings.length > 0) send({ type: 'findings', findings })
      send({ type: 'done', reports: b.machines.length })
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
          hosts.delete(id)
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
