import t from 'tap'
import { createFleet } from '../../bench/sim/fleet.js'
import { hostFactsOf, installedApps, inventoryHash, isOnline, machineState, metricsOf } from '../../bench/sim/behaviour.js'
import { placeFaults } from '../../bench/sim/faults.js'
import { validateScenario, parseDuration } from '../../bench/sim/scenario.js'

const T0 = Date.UTC(2025, 2, 10, 9, 0) // a Monday morning
const DAY = 86_400_000
const scenario = validateScenario({
  name: 't',
  faults: [
    { kind: 'disk_fill', count: 2, start: '1d', ratePctPerDay: 10 },
    { kind: 'battery_fade', count: 1, start: '2h' },
    { kind: 'silence', count: 1, start: '1d', duration: '6h' },
    { kind: 'bad_update', share: 0.5, start: '1d', app: 'Google Chrome', version: '999.0.0' }
  ]
})

function snapshot (seed: number, n: number): unknown {
  const fleet = createFleet(seed, n)
  const placed = placeFaults(scenario, fleet, seed, T0)
  const values = fleet.map(m => {
    const eff = placed.effects.get(m.index) ?? []
    return [0, 3 * 3_600_000, 2 * DAY].map(dt => ({
      online: isOnline(m, T0 + dt),
      host: hostFactsOf(m, T0 + dt),
      metrics: metricsOf(m, machineState(m, T0 + dt, eff), T0 + dt),
      inv: inventoryHash(installedApps(m, T0 + dt, eff))
    }))
  })
  return { fleet, faults: placed.faults, values }
}

t.test('the same seed gives the same fleet, the same faults and the same values', async t => {
  t.same(snapshot(42, 60), snapshot(42, 60))
})

t.test('another seed gives another fleet', async t => {
  const a = createFleet(1, 50).map(m => `${m.hw.model}/${m.os.osVersion}/${m.hostname}`)
  const b = createFleet(2, 50).map(m => `${m.hw.model}/${m.os.osVersion}/${m.hostname}`)
  t.not(JSON.stringify(a), JSON.stringify(b))
})

t.test('a machine does not depend on the fleet size', async t => {
  t.same(createFleet(5, 10)[7], createFleet(5, 300)[7])
})

t.test('the fleet is varied: several models, OS builds, laptops and desktops', async t => {
  const fleet = createFleet(9, 500)
  t.ok(new Set(fleet.map(m => m.hw.model)).size >= 6)
  t.ok(new Set(fleet.map(m => m.os.osVersion)).size >= 6)
  const laptops = fleet.filter(m => m.hw.kind === 'laptop').length
  t.ok(laptops > 150 && laptops < 450, `${laptops} laptops of 500`)
  t.ok(fleet.every(m => m.apps.length >= 3), 'every machine has software')
  t.ok(fleet.reduce((n, m) => n + m.apps.length, 0) / fleet.length >= 10, 'a dozen apps on average')
})

t.test('values are plausible and use the agent metric names', async t => {
  const fleet = createFleet(3, 100)
  const bad: string[] = []
  const check = (ok: boolean, what: string): void => { if (!ok && bad.length < 20) bad.push(what) }
  for (const m of fleet) {
    for (let k = 0; k < 48; k++) {
      const at = T0 + k * 1_800_000
      const byName = new Map(metricsOf(m, machineState(m, at), at).map(v => [v.name, v.value]))
      const v = (name: string): number => byName.get(name) ?? NaN
      check(v('cpu.load_pct') >= 0 && v('cpu.load_pct') <= 100, `cpu ${v('cpu.load_pct')}`)
      check(v('mem.used_pct') > 5 && v('mem.used_pct') < 95, `mem ${v('mem.used_pct')}`)
      check(v('temp.cpu_c') > 25 && v('temp.cpu_c') < 88, `temp ${v('temp.cpu_c')} on ${m.hw.model}`)
      check(v('fs.used_pct') > 10 && v('fs.used_pct') < 90, `fs ${v('fs.used_pct')}`)
      check(byName.has('battery.health_pct') === (m.hw.kind === 'laptop'), 'battery only on laptops')
      check(v('smart.healthy') === 1, 'healthy disk')
      for (const name of ['mem.used_bytes', 'swap.used_pct', 'fs.size_bytes', 'fs.used_bytes', 'smart.reallocated_sectors', 'smart.pending_sectors', 'smart.wear_pct', 'net.rx_bytes_per_sec', 'net.rx_errors_per_sec', 'system.uptime_s', 'system.process_count', 'proc.rss_bytes', 'proc.cpu_pct']) {
        check(byName.has(name), `missing ${name}`)
      }
    }
  }
  t.same(bad, [])
})

t.test('desktops are off at night and on weekends; laptops sleep', async t => {
  const fleet = createFleet(11, 200).filter(m => !m.alwaysOn)
  const night = Date.UTC(2025, 2, 12, 2, 0) // Wednesday 03:00 local
  const sunday = Date.UTC(2025, 2, 16, 5, 0)
  const workday = Date.UTC(2025, 2, 12, 13, 30)
  t.equal(fleet.filter(m => isOnline(m, night)).length, 0, 'nobody at 3 am')
  t.ok(fleet.filter(m => isOnline(m, sunday)).length < fleet.length * 0.1, 'few on a Sunday morning')
  t.ok(fleet.filter(m => isOnline(m, workday)).length > fleet.length * 0.8, 'most on a working afternoon')
})

t.test('software updates roll through the fleet over days, not all at once', async t => {
  const fleet = createFleet(4, 300).filter(m => m.apps.includes(0)) // Google Chrome
  const versionsAt = (at: number): Set<string> => new Set(fleet.map(m => installedApps(m, at).find(a => a.name === 'Google Chrome')!.version))
  let sawMixed = false
  for (let d = 0; d < 28; d++) if (versionsAt(T0 + d * DAY).size > 1) sawMixed = true
  t.ok(sawMixed, 'two versions coexist during a rollout')
})

t.test('faults land on distinct eligible machines and their values show the fault', async t => {
  const fleet = createFleet(42, 60)
  const placed = placeFaults(scenario, fleet, 42, T0)
  const idx = placed.faults.map(f => f.machineIndex)
  t.equal(new Set(idx).size, idx.length, 'one fault per machine')
  const disk = placed.faults.filter(f => f.kind === 'disk_fill')
  t.equal(disk.length, 2)
  for (const f of disk) {
    const m = fleet[f.machineIndex]
    const eff = placed.effects.get(m.index)!
    const before = machineState(m, f.startMs - 1, eff).fsUsedPct
    const later = machineState(m, f.startMs + 2 * DAY, eff).fsUsedPct
    t.ok(later - before > 15, `disk rose ${before} → ${later}`)
    t.ok(f.impactMs > f.startMs && f.predictable)
    t.ok(machineState(m, f.impactMs, eff).fsUsedPct >= 99.9, 'full at impact')
    t.ok(machineState(m, f.impactMs - 3_600_000, eff).fsUsedPct < 99.9, 'not full an hour before')
  }
  const battery = placed.faults.find(f => f.kind === 'battery_fade')!
  t.equal(fleet[battery.machineIndex].hw.kind, 'laptop')
  const silent = placed.faults.find(f => f.kind === 'silence')!
  const eff = placed.effects.get(silent.machineIndex)!
  t.equal(eff[0].silent!(silent.startMs + 1000), true)
  t.equal(eff[0].silent!(silent.startMs + parseDuration('7h')), false)
  const updated = placed.faults.filter(f => f.kind === 'bad_update')
  t.ok(updated.length >= 2)
  for (const f of updated) {
    const m = fleet[f.machineIndex]
    const e = placed.effects.get(m.index)!
    const at = (f.params.installedAtMs as number) + 60_000
    t.equal(installedApps(m, at, e).find(a => a.name === 'Google Chrome')!.version, '999.0.0')
    t.ok(machineState(m, at, e).cpuPct > machineState(m, at).cpuPct + 10, 'CPU rose after the bad update')
  }
})

t.test('a scenario with a bad field is refused with its path', async t => {
  t.throws(() => validateScenario({ name: 'x', faults: [{ kind: 'disk_explodes', start: '1h' }] }), /\/faults\/0\/kind/)
  t.throws(() => validateScenario({ name: 'x', faults: [{ kind: 'disk_fill', start: 'soon' }] }), /\/faults\/0\/start/)
  t.throws(() => validateScenario({ name: 'x', faults: [{ kind: 'bad_update', start: '1h' }] }), /\/faults\/0\/app/)
})
