/**
 * Ground truth: what the simulator did, one JSON object per line, so tests and
 * benchmarks can score detection (recall, lead time, false incidents).
 *   {type:'run', …}      once, first
 *   {type:'machine', …}  one per simulated machine, faulty or not
 *   {type:'fault', …}    one per injected fault on one machine
 */
import fs from 'node:fs'
import path from 'node:path'
import type { ExpectedFinding, InjectedFault } from './faults.js'
import type { MachineProfile } from './fleet.js'

export interface RunTruth {
  type: 'run'
  seed: number
  agents: number
  scenario: string
  /** first simulated sample time */
  simStartAt: string
  speed: number
  intervalSec: number
  transport: 'ws' | 'http'
  schedule: 'office' | 'always-on'
  createdAt: string
}

export interface MachineTruth {
  type: 'machine'
  index: number
  machineId: string
  hostname: string
  kind: 'laptop' | 'desktop'
  model: string
  os: string
  osVersion: string
  /** false: no fault was injected here; any incident on it is a false one */
  faulty: boolean
  faultIds: string[]
}

export interface FaultTruth {
  type: 'fault'
  faultId: string
  kind: string
  machineIndex: number
  machineId: string
  hostname: string
  startAt: string
  startMs: number
  /** when the user would be hurt */
  impactAt: string
  impactMs: number
  endAt?: string
  /** builds up (a detector can warn before impact) vs sudden */
  predictable: boolean
  series: string
  expected: ExpectedFinding[]
  params: Record<string, unknown>
}

export type TruthRecord = RunTruth | MachineTruth | FaultTruth

export function machineTruth (m: MachineProfile, machineId: string, faults: readonly InjectedFault[]): MachineTruth {
  const mine = faults.filter(f => f.machineIndex === m.index)
  return {
    type: 'machine',
    index: m.index,
    machineId,
    hostname: m.hostname,
    kind: m.hw.kind,
    model: m.hw.model,
    os: m.os.os,
    osVersion: m.os.osVersion,
    faulty: mine.length > 0,
    faultIds: mine.map(f => f.faultId)
  }
}

export function faultTruth (f: InjectedFault, machineId: string): FaultTruth {
  return {
    type: 'fault',
    faultId: f.faultId,
    kind: f.kind,
    machineIndex: f.machineIndex,
    machineId,
    hostname: f.hostname,
    startAt: new Date(f.startMs).toISOString(),
    startMs: f.startMs,
    impactAt: new Date(f.impactMs).toISOString(),
    impactMs: f.impactMs,
    ...(f.endMs !== undefined ? { endAt: new Date(f.endMs).toISOString() } : {}),
    predictable: f.predictable,
    series: f.series,
    expected: f.expected,
    params: f.params
  }
}

export function writeTruth (file: string, records: readonly TruthRecord[]): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  fs.writeFileSync(file, records.map(r => JSON.stringify(r)).join('\n') + '\n')
}

export function readTruth (file: string): TruthRecord[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as TruthRecord)
}
