/** Every default probe on this very machine: it measures something or says why not, cheaply. */
import os from 'node:os'
import t from 'tap'
import { PROBE_NAMES, probesFor } from '../../../agent/probes/registry.js'
import { runProbe } from '../../../agent/probes/probe.js'
import { runStatus } from '../../../agent/probe-stats.js'

t.test('each probe measures or explains itself, and the hot ones cost milliseconds', async t => {
  t.equal(process.platform, 'linux', 'these are the Linux probes, run for real on a Linux machine')
  const probes = probesFor({ schedule: { inventory: false, smart: false } })
  t.same(probesFor().map(p => p.name), [...PROBE_NAMES], 'the documented probe list')
  for (const p of probes) await runProbe(p) // baselines for rate probes
  for (const p of probes) {
    const r = await runProbe(p)
    t.notOk(r.failed, `${p.name} did not fail: ${JSON.stringify(r.unavailable)}`)
    const status = runStatus(r)
    t.ok(status !== 'unavailable' || (r.unavailable ?? []).length > 0, `${p.name}: ${status}, with a reason when unavailable`)
    for (const m of r.metrics) t.ok(Number.isFinite(m.value), `${p.name} ${m.name} is a number`)
    // Steady-state runs read /proc and /sys only (the gateway probe too: it sends nothing).
    t.ok(r.ms < 250, `${p.name} took ${r.ms.toFixed(1)} ms`)
  }
  const fs = await runProbe(probes.find(p => p.name === 'filesystems')!)
  t.ok(fs.metrics.some(m => m.name === 'fs.used_pct' && m.labels?.mount === '/'), 'the root filesystem is reported')
  t.ok(fs.metrics.some(m => m.name === 'fs.inodes_used_pct'), 'with inode use')
  const sys = await runProbe(probes.find(p => p.name === 'system')!)
  const boot = Date.parse(sys.host?.bootTime ?? '')
  t.ok(Math.abs(boot - (Date.now() - os.uptime() * 1000)) < 5000, 'boot time agrees with uptime')
  const cpu = await runProbe(probes.find(p => p.name === 'cpu')!)
  const load = cpu.metrics.find(m => m.name === 'cpu.load_pct')!.value
  t.ok(load >= 0 && load <= 100, `cpu load ${load} %`)
  t.equal(cpu.metrics.filter(m => m.name === 'cpu.core_load_pct').length, os.cpus().length)
})

t.test('SMART and inventory run for real here, or explain why', async t => {
  const [smart, inventory] = probesFor().filter(p => p.name === 'smart' || p.name === 'inventory')
  const s = await runProbe(smart)
  t.notOk(s.failed)
  t.ok(s.metrics.length > 0 || (s.unavailable ?? []).every(u => u.reason.length > 10), `smart: ${JSON.stringify(s.unavailable)}`)
  const i = await runProbe(inventory)
  t.notOk(i.failed, JSON.stringify(i.unavailable))
  t.ok((i.inventory?.apps.length ?? 0) > 10, `${i.inventory?.apps.length} packages from dpkg or rpm`)
})
