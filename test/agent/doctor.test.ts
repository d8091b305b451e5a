/** `vigie-agent doctor` against a real collector: connectivity, clock, state-dir permissions, and every probe with its cost. */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { PROBE_NAMES } from '../../agent/probes/registry.js'
import type { DoctorReport } from '../../agent/doctor.js'
import { freePort, inProcessCollector, ROOT } from './helpers/collector.js'
import { tempDir } from '../helpers/temp.js'

function doctor (args: string[]): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise(resolve => {
    const c = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'agent', 'main.ts'), 'doctor', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME } })
    let out = ''
    let err = ''
    c.stdout.on('data', (d: Buffer) => { out += d.toString() })
    c.stderr.on('data', (d: Buffer) => { err += d.toString() })
    c.on('exit', code => { resolve({ code, out, err }) })
  })
}

t.test('doctor reports a reachable collector, the clock skew, and each probe with its status and cost', async t => {
  const dir = tempDir(t, 'vigie-doctor-')
  const collector = await inProcessCollector(path.join(dir, 'c'))
  t.teardown(async () => { await collector.close() })
  const stateDir = path.join(dir, 'state')
  fs.mkdirSync(stateDir, { mode: 0o700 })
  const r = await doctor(['--collector', collector.url, '--state-dir', stateDir])
  t.equal(r.code, 0, r.out + r.err)
  t.match(r.out, /^ok {4}collector +http:\/\/127\.0\.0\.1:\d+\/healthz answered 200 in \d+ ms$/m)
  t.match(r.out, /^ok {4}clock +this clock is \d+ ms (behind|ahead of) the collector \(±\d+ ms\)$/m)
  t.match(r.out, /^ok {4}state dir +.* \(mode 700, writable\)$/m)
  for (const name of PROBE_NAMES) t.match(r.out, new RegExp(`^${name} +(works|partial|unavailable|failed) +\\d+\\.\\d +\\d+ `, 'm'), `${name} is listed with its status, ms and metric count`)
  t.match(r.out, /^battery +unavailable .*no battery/m, 'and why a probe does not work here')
  t.match(r.out, /doctor: ready to report/)

  const json = await doctor(['--collector', collector.url, '--state-dir', stateDir, '--json', '--probes', 'inventory=off,smart=off'])
  const report = JSON.parse(json.out) as DoctorReport
  t.equal(report.ok, true)
  t.same(report.probes.map(p => p.name), PROBE_NAMES.filter(n => n !== 'inventory' && n !== 'smart'), 'turned-off probes are not run')
  t.ok(report.probes.every(p => p.lastMs >= 0 && p.runs === 1))
})

t.test('doctor fails on an unreachable collector and on a state folder others can read', async t => {
  const dir = tempDir(t, 'vigie-doctor-')
  const stateDir = path.join(dir, 'state')
  fs.mkdirSync(stateDir)
  fs.chmodSync(stateDir, 0o755)
  const port = await freePort()
  const r = await doctor(['--collector', `http://127.0.0.1:${port}`, '--state-dir', stateDir, '--probes', 'inventory=off,smart=off,processes=off'])
  t.equal(r.code, 1)
  t.match(r.out, /^FAIL {2}collector +http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/m)
  t.match(r.out, /^FAIL {2}state dir +.*mode 755 lets other users in \(want 700\)/m)
  t.match(r.out, /doctor: problems found/)
})
