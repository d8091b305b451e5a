/**
 * SMART and software inventory on recorded command outputs (smartctl 7.3 JSON,
 * dpkg-query, rpm, macOS system_profiler, Windows PowerShell registry query),
 * replayed through the probes' own command runner.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Measurement } from '../../../agent/sample.js'
import { probeFor } from '../../../agent/probes/registry.js'
import { smartMetrics, type SmartJson } from '../../../agent/probes/smart.js'
import { inventoryHash } from '../../../agent/probes/inventory.js'
import { WINDOWS_INVENTORY_SCRIPT } from '../../../agent/probes/inventory-win32.js'
import { normalizeApps, parseAptSimulate, parseDnfCheckUpdate, parseDpkg, parseRpm, parseSystemProfiler, parseUpdateNotifier, parseWindowsUninstall } from '../../../agent/probes/inventory-parsers.js'
import { CommandError, type CommandResult } from '../../../agent/probes/run-command.js'

const FIX = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'agent')
const text = (p: string): string => fs.readFileSync(path.join(FIX, p), 'utf8')
const smart = (f: string): SmartJson => JSON.parse(text(`smart/${f}`)) as SmartJson
const find = (ms: Measurement[], name: string, device?: string): number | undefined => ms.find(m => m.name === name && (device === undefined || m.labels?.device === device))?.value

/** Replays recorded outputs by command line; records what was run. */
function replay (table: Record<string, string | CommandError | CommandResult>): { run: (f: string, a: readonly string[]) => Promise<CommandResult>, calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    run: async (file, args) => {
      const key = [file, ...args].join(' ')
      calls.push(key)
      const hit = Object.entries(table).find(([k]) => key.startsWith(k))?.[1]
      if (hit === undefined) throw new CommandError(`${file} not found`, 'ENOENT')
      if (hit instanceof CommandError) throw hit
      return typeof hit === 'string' ? { code: 0, stdout: hit, stderr: '' } : hit
    }
  }
}

t.test('SMART: a healthy SATA SSD reports wear from its life-left attribute', async t => {
  const { metrics, unavailable } = smartMetrics(smart('sata-ssd-samsung-860.json'), 'sda')
  t.same(unavailable, [])
  t.equal(find(metrics, 'smart.healthy'), 1)
  t.equal(find(metrics, 'smart.reallocated_sectors'), 0)
  t.equal(find(metrics, 'smart.wear_pct'), 7, 'Wear_Leveling_Count normalized 93 → 7 % used')
  t.equal(find(metrics, 'smart.power_on_hours'), 21877)
  t.equal(find(metrics, 'smart.temp_c'), 33)
})

t.test('SMART: a failing hard disk shows its reallocated and pending sectors and no wear figure', async t => {
  const { metrics } = smartMetrics(smart('hdd-failing-wd.json'), 'sdb')
  t.equal(find(metrics, 'smart.healthy'), 0)
  t.equal(find(metrics, 'smart.reallocated_sectors'), 1872)
  t.equal(find(metrics, 'smart.pending_sectors'), 24)
  t.equal(find(metrics, 'smart.offline_uncorrectable'), 7)
  t.equal(find(metrics, 'smart.wear_pct'), undefined, 'spinning disks do not wear out that way')
})

t.test('SMART: NVMe percentage used and media errors', async t => {
  const { metrics } = smartMetrics(smart('nvme-samsung-pm9a1.json'), 'nvme0')
  t.equal(find(metrics, 'smart.healthy'), 1)
  t.equal(find(metrics, 'smart.wear_pct'), 7)
  t.equal(find(metrics, 'smart.media_errors'), 0)
  t.equal(find(metrics, 'smart.power_on_hours'), 4310)
  t.equal(find(metrics, 'smart.temp_c'), 41)
})

t.test('SMART: says why when it cannot read (no permission, virtual disk, standby)', async t => {
  t.match(smartMetrics(smart('vm-virtio-not-permitted.json'), 'vda').unavailable[0].reason, /^vda: needs root\/Administrator: .*Operation not permitted/)
  t.match(smartMetrics(smart('vm-virtio-unknown-type.json'), 'vda').unavailable[0].reason, /Unable to detect device type/)
  t.match(smartMetrics(smart('hdd-standby.json'), 'sdb').unavailable[0].reason, /standby; not woken/)
})

t.test('SMART probe scans, reads each disk without waking it, and labels by device', async t => {
  const { run, calls } = replay({
    'smartctl --scan --json': text('smart/scan-three-disks.json'),
    'smartctl --json -a -n standby -d sat /dev/sda': text('smart/sata-ssd-samsung-860.json'),
    'smartctl --json -a -n standby -d sat /dev/sdb': { code: 24, stdout: text('smart/hdd-failing-wd.json'), stderr: '' },
    'smartctl --json -a -n standby -d nvme /dev/nvme0': text('smart/nvme-samsung-pm9a1.json')
  })
  const p = probeFor('smart', 'linux', { root: '/nonexistent', run })
  t.equal(p.everySec, 3600, 'hourly by default: it touches the hardware')
  const r = await p.collect()
  t.equal(calls.length, 4)
  t.same([...new Set(r.metrics.map(m => m.labels?.device))], ['sda', 'sdb', 'nvme0'])
  t.equal(find(r.metrics, 'smart.healthy', 'sdb'), 0)
  const missing = await probeFor('smart', 'linux', { root: '/nonexistent', run: replay({}).run }).collect()
  t.match(missing.unavailable?.[0].reason, /smartctl not installed/)
})

t.test('inventory parsers read each OS’s recorded output', async t => {
  const dpkg = parseDpkg(text('inventory/dpkg-query.txt'))
  t.equal(dpkg.length, 40, 'removed-but-configured (rc) packages are not installed')
  t.ok(dpkg.every(a => a.source === 'dpkg' && a.version !== ''))
  const rpm = normalizeApps(parseRpm(text('inventory/rpm-qa.txt')))
  t.notOk(rpm.some(a => a.name === 'gpg-pubkey'), 'signing keys are not software')
  t.equal(rpm.find(a => a.name === 'kernel')?.version, '6.6.9-200.fc39', 'parallel kernels: the newest')
  const mac = parseSystemProfiler(text('inventory/system_profiler-SPApplicationsDataType.json'))
  t.same(mac.map(a => a.name).sort(), ['1Password 7', 'Calculator', 'Google Chrome', 'Microsoft Teams (work or school)', 'Microsoft Word', 'Safari', 'Slack', 'Unsigned Tool', 'Visual Studio Code', 'Xcode', 'zoom.us'],
    'no OS internals, no helper apps nested in other bundles')
  t.equal(mac.find(a => a.name === 'Unsigned Tool')?.version, '')
  const win = parseWindowsUninstall(text('inventory/powershell-uninstall-keys.json'))
  t.equal(win.length, 12)
  t.equal(win.find(a => a.name === 'Google Chrome')?.version, '120.0.6099.217')
  t.equal(win.find(a => a.name === 'Intel(R) Graphics Driver')?.version, '', 'a null DisplayVersion')
  t.same(parseWindowsUninstall(text('inventory/powershell-uninstall-keys-single.json')), [{ name: 'Mozilla Firefox (x64 fr)', version: '121.0.1', source: 'windows' }], 'ConvertTo-Json writes one object, not an array, for one entry')
  t.same(parseWindowsUninstall(''), [])
})

t.test('pending updates from update-notifier, apt simulation or dnf cache', async t => {
  t.equal(parseUpdateNotifier(text('inventory/update-notifier-updates-available.txt')), 17)
  t.equal(parseUpdateNotifier('\n7 packages can be updated.\n3 updates are security updates.\n'), 7, 'the older wording')
  t.equal(parseAptSimulate(text('inventory/apt-get-s-upgrade.txt')), 12)
  t.equal(parseDnfCheckUpdate(text('inventory/dnf-check-update.txt')), 4, 'obsoleted packages are not counted twice')
})

t.test('inventory probe on each OS runs the right command and hashes independently of order', async t => {
  const mac = replay({ 'system_profiler SPApplicationsDataType -json': text('inventory/system_profiler-SPApplicationsDataType.json') })
  const m = await probeFor('inventory', 'darwin', { run: mac.run }).collect()
  t.equal(m.inventory?.apps.length, 11)
  t.match(m.unavailable?.[0].reason, /softwareupdate/)
  const win = replay({ 'powershell.exe -NoProfile -NonInteractive': text('inventory/powershell-uninstall-keys.json') })
  const w = await probeFor('inventory', 'win32', { run: win.run }).collect()
  t.equal(w.inventory?.apps.length, 12)
  t.ok(win.calls[0].endsWith(WINDOWS_INVENTORY_SCRIPT))
  t.match(WINDOWS_INVENTORY_SCRIPT, /WOW6432Node/, 'reads 32-bit apps on 64-bit Windows too')
  const deb = replay({ 'dpkg-query -W': text('inventory/dpkg-query.txt'), 'apt-get -s': text('inventory/apt-get-s-upgrade.txt') })
  const fake = path.join(FIX, 'linux-laptop')
  const d = await probeFor('inventory', 'linux', { root: fake, run: deb.run }).collect()
  t.equal(d.inventory?.pendingUpdates, 17, 'update-notifier wins over a slow apt simulation')
  t.equal(d.inventory?.apps.length, 40)
  t.equal(find(d.metrics, 'os.pending_updates'), 17)
  const apps = d.inventory!.apps
  t.equal(inventoryHash([...apps].reverse()), inventoryHash(apps))
  t.not(inventoryHash(apps.map((a, i) => i === 0 ? { ...a, version: a.version + '.1' } : a)), inventoryHash(apps), 'a version change changes the hash')
})
