/**
 * Linux probes read a recorded ThinkPad tree (test/fixtures/agent/linux-laptop:
 * /proc and /sys files as the kernel writes them) through the same code that
 * reads / in production.
 */
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import type { Measurement } from '../../../agent/sample.js'
import { probeFor } from '../../../agent/probes/registry.js'
import { cpuLoadMetrics, parseProcStat, readCpuFreq } from '../../../agent/probes/cpu-linux.js'
import { parseMeminfo } from '../../../agent/probes/memory-linux.js'
import { filesystemMetrics } from '../../../agent/probes/filesystems.js'
import { parseMounts } from '../../../agent/probes/filesystems-linux.js'
import { diskIoMetrics } from '../../../agent/probes/disk-io.js'
import { parseDiskstats } from '../../../agent/probes/disk-io-linux.js'
import { linkMetrics, netRateMetrics, parseNetDev, parseWireless } from '../../../agent/probes/network-linux.js'
import { arpComplete, arpState, parseDefaultGateway } from '../../../agent/probes/gateway-linux.js'
import { blockConnects } from '../../helpers/no-connect.js'
import { batteryMetrics } from '../../../agent/probes/battery.js'
import { readLinuxBatteries } from '../../../agent/probes/battery-linux.js'
import { fromSiBattery, type SiBattery } from '../../../agent/probes/battery-si.js'
import { sensorMetrics } from '../../../agent/probes/temperatures.js'
import { readHwmon } from '../../../agent/probes/temperatures-linux.js'
import { parseUtmp, readLinuxUsers } from '../../../agent/probes/system-linux.js'
import { parseOsRelease } from '../../../agent/probes/host-linux.js'
import { topProcessMetrics } from '../../../agent/probes/processes.js'
import { parsePidStat } from '../../../agent/probes/processes-linux.js'
import { tempDir } from '../../helpers/temp.js'

const FIX = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'agent')
const LAPTOP = path.join(FIX, 'linux-laptop')
const read = (p: string): string => fs.readFileSync(path.join(LAPTOP, p), 'utf8')
const find = (ms: Measurement[], name: string, labels?: Record<string, string>): number | undefined =>
  ms.find(m => m.name === name && Object.entries(labels ?? {}).every(([k, v]) => m.labels?.[k] === v))?.value

t.test('computes CPU load per core and iowait from two /proc/stat readings', async t => {
  const before = parseProcStat(read('proc/stat'))
  const after = parseProcStat(read('proc-later/stat'))
  t.equal(before.cores.length, 4)
  t.equal(before.bootTimeSec, 1704787200)
  const m = cpuLoadMetrics(before, after)
  // total: busy +500 (user 400 + system 100) of 1100 jiffies; iowait +100
  t.equal(find(m, 'cpu.load_pct'), 45.45)
  t.equal(find(m, 'cpu.iowait_pct'), 9.09)
  t.equal(find(m, 'cpu.core_load_pct', { core: '0' }), 62.5, 'core 0: 250 busy of 400')
  t.equal(m.filter(x => x.name === 'cpu.core_load_pct').length, 4)
})

t.test('reads CPU frequency and throttle counters from sysfs', async t => {
  const { metrics, unavailable } = await readCpuFreq(LAPTOP)
  t.equal(find(metrics, 'cpu.freq_hz'), Math.round(1000 * (1197321 + 2800000 + 1400000 + 3100000) / 4))
  t.equal(find(metrics, 'cpu.freq_max_hz'), 4.7e9)
  t.equal(find(metrics, 'cpu.throttle_count'), 15, 'sum of core throttle events')
  t.same(unavailable, [])
  const probe = probeFor('cpu', 'linux', { root: LAPTOP })
  const r = await probe.collect()
  t.ok(r.metrics.some(x => x.name === 'cpu.load_pct'), 'the probe reports load from the fixture tree')
})

t.test('memory used excludes page cache; swap from SwapTotal/SwapFree', async t => {
  const m = parseMeminfo(read('proc/meminfo'))
  t.equal(m.total, 16108596 * 1024)
  t.equal(m.available, 9876540 * 1024)
  const r = await probeFor('memory', 'linux', { root: LAPTOP }).collect()
  t.equal(find(r.metrics, 'mem.used_pct'), 38.69)
  t.equal(find(r.metrics, 'swap.used_bytes'), (4194300 - 3145725) * 1024)
  t.equal(find(r.metrics, 'swap.used_pct'), 25)
  t.equal(r.host?.memTotalBytes, 16108596 * 1024)
})

t.test('keeps local data filesystems only, one mount per device, unescaping names', async t => {
  const mounts = parseMounts(read('proc/mounts'))
  t.same(mounts.map(m => m.mount), ['/', '/boot/efi', '/media/alice/USB STICK'], 'no pseudo fs, snaps, tmpfs, NFS, FUSE, or bind repeats')
  const metrics = filesystemMetrics([
    { mount: '/', type: 'ext4', size: 500e9, used: 400e9, available: 75e9, inodes: 1000, inodesFree: 250 },
    { mount: '/media/alice/USB STICK', type: 'vfat', size: 16e9, used: 1e9, available: 15e9 }
  ])
  t.equal(find(metrics, 'fs.used_pct', { mount: '/' }), 84.21, 'like df: used / (used + available), reserved blocks excluded')
  t.equal(find(metrics, 'fs.inodes_used_pct', { mount: '/' }), 75)
  t.equal(find(metrics, 'fs.inodes_used_pct', { mount: '/media/alice/USB STICK' }), undefined, 'FAT has no inodes')
})

t.test('disk I/O rates per whole disk, ignoring partitions, loop and device-mapper', async t => {
  const a = parseDiskstats(read('proc/diskstats'))
  const b = parseDiskstats(read('proc-later/diskstats'))
  t.same([...a.keys()].sort(), ['nvme0n1', 'sda'])
  const m = diskIoMetrics(a, b, 10)
  t.equal(find(m, 'disk.read_bytes_per_sec', { device: 'nvme0n1' }), 40960 * 512 / 10)
  t.equal(find(m, 'disk.write_bytes_per_sec', { device: 'nvme0n1' }), 102400 * 512 / 10)
  t.equal(find(m, 'disk.busy_pct', { device: 'nvme0n1' }), 25)
  t.equal(find(m, 'disk.read_bytes_per_sec', { device: 'sda' }), 0)
})

t.test('network: per-interface rates, link speed, state and Wi-Fi signal', async t => {
  const a = parseNetDev(read('proc/net/dev'))
  const b = parseNetDev(read('proc-later/net/dev'))
  t.same([...a.keys()], ['wlp0s20f3', 'enp0s31f6'], 'loopback, docker and veth are left out')
  const rates = netRateMetrics(a, b, 10)
  t.equal(find(rates, 'net.rx_bytes_per_sec', { iface: 'wlp0s20f3' }), 1e6)
  t.equal(find(rates, 'net.tx_bytes_per_sec', { iface: 'wlp0s20f3' }), 2e5)
  t.equal(find(rates, 'net.rx_errors_per_sec', { iface: 'wlp0s20f3' }), 0.2)
  t.equal(find(rates, 'net.rx_drops_per_sec', { iface: 'wlp0s20f3' }), 1)
  t.same(parseWireless(read('proc/net/wireless')), new Map([['wlp0s20f3', -56]]))
  const links = await linkMetrics(LAPTOP, ['wlp0s20f3', 'enp0s31f6', 'enx00e04c680001'])
  t.equal(find(links, 'net.wifi_signal_dbm', { iface: 'wlp0s20f3' }), -56)
  t.equal(find(links, 'net.up', { iface: 'enp0s31f6' }), 0)
  t.equal(find(links, 'net.link_speed_bps', { iface: 'enp0s31f6' }), undefined, 'no speed while the cable is out')
  t.equal(find(links, 'net.link_speed_bps', { iface: 'enx00e04c680001' }), 1e9)
})

t.test('finds the default gateway and its ARP state', async t => {
  t.same(parseDefaultGateway(read('proc/net/route')), { iface: 'wlp0s20f3', gateway: '192.168.1.1' })
  t.equal(arpComplete(read('proc/net/arp'), '192.168.1.1'), true)
  t.equal(arpComplete(read('proc/net/arp'), '192.168.1.23'), false, 'an incomplete entry is not an answer')
  t.equal(parseDefaultGateway('Iface\tDestination\tGateway\n'), undefined)
})

t.test('the gateway probe is passive: route and neighbour state from /proc, no connection opened', async t => {
  const wire = blockConnects()
  t.teardown(() => { wire.restore() })
  const r = await probeFor('gateway', 'linux', { root: LAPTOP }).collect()
  t.same(wire.attempts, [], 'no connection to the gateway (or anywhere)')
  t.equal(find(r.metrics, 'net.default_route', { gateway: '192.168.1.1', iface: 'wlp0s20f3' }), 1)
  t.equal(find(r.metrics, 'net.gateway_reachable', { gateway: '192.168.1.1' }), 1, 'a complete ARP entry: the gateway answered the kernel')
  t.equal(find(r.metrics, 'net.gateway_rtt_ms'), undefined, 'no round trip measured: nothing was sent')
  t.equal(r.unavailable, undefined)

  // The same machine with the gateway's entry failed, then gone.
  const tree = tempDir(t, 'vigie-gw-')
  fs.mkdirSync(path.join(tree, 'proc/net'), { recursive: true })
  fs.copyFileSync(path.join(LAPTOP, 'proc/net/route'), path.join(tree, 'proc/net/route'))
  const arp = read('proc/net/arp').split('\n')
  fs.writeFileSync(path.join(tree, 'proc/net/arp'), [arp[0], '192.168.1.1      0x1         0x0         00:00:00:00:00:00     *        wlp0s20f3', ''].join('\n'))
  const failed = await probeFor('gateway', 'linux', { root: tree }).collect()
  t.equal(find(failed.metrics, 'net.gateway_reachable', { gateway: '192.168.1.1' }), 0, 'an incomplete entry: the gateway did not answer')
  fs.writeFileSync(path.join(tree, 'proc/net/arp'), arp[0] + '\n')
  const none = await probeFor('gateway', 'linux', { root: tree }).collect()
  t.equal(find(none.metrics, 'net.gateway_reachable'), undefined, 'no entry says nothing either way')
  t.equal(find(none.metrics, 'net.default_route'), 1)
  t.match(none.unavailable?.[0].reason, /no neighbour entry for gateway 192\.168\.1\.1/)
  fs.writeFileSync(path.join(tree, 'proc/net/route'), read('proc/net/route').split('\n')[0] + '\n')
  const noRoute = await probeFor('gateway', 'linux', { root: tree }).collect()
  t.equal(find(noRoute.metrics, 'net.default_route'), 0)
  t.match(noRoute.unavailable?.[0].reason, /no IPv4 default route/)
  t.same(wire.attempts, [], 'still no connection')
  t.equal(arpState(read('proc/net/arp'), '192.168.1.23'), 'incomplete')
})

t.test('battery health is full-charge over design capacity, for energy and charge firmware alike', async t => {
  const list = await readLinuxBatteries(LAPTOP)
  t.same(list.map(b => b.name), ['BAT0', 'BAT1'], 'the mouse battery (scope Device) and the AC adapter are not laptop batteries')
  const r = await probeFor('battery', 'linux', { root: LAPTOP }).collect()
  t.equal(find(r.metrics, 'battery.health_pct', { battery: 'BAT0' }), 79.1)
  t.equal(find(r.metrics, 'battery.health_pct', { battery: 'BAT1' }), 94.7)
  t.equal(find(r.metrics, 'battery.cycle_count', { battery: 'BAT0' }), 412)
  t.equal(find(r.metrics, 'battery.charging', { battery: 'BAT0' }), 0)
  t.equal(find(r.metrics, 'battery.ac_connected', { battery: 'BAT0' }), 0)
  t.equal(find(r.metrics, 'battery.time_remaining_s', { battery: 'BAT0' }), 11520, '28.88 Wh at 9.02 W = 3.2 h')
  t.equal(find(r.metrics, 'battery.time_remaining_s', { battery: 'BAT1' }), undefined, 'no estimate when not discharging')
})

t.test('battery on macOS and Windows comes from recorded systeminformation output', async t => {
  const mac = JSON.parse(fs.readFileSync(path.join(FIX, 'battery', 'si-battery-macos.json'), 'utf8')) as SiBattery
  const m = fromSiBattery(mac).flatMap(batteryMetrics)
  t.equal(find(m, 'battery.health_pct'), 86.6)
  t.equal(find(m, 'battery.cycle_count'), 312)
  t.equal(find(m, 'battery.time_remaining_s'), 246 * 60)
  const win = JSON.parse(fs.readFileSync(path.join(FIX, 'battery', 'si-battery-windows.json'), 'utf8')) as SiBattery
  const w = fromSiBattery(win).flatMap(batteryMetrics)
  t.equal(find(w, 'battery.health_pct'), 88)
  t.equal(find(w, 'battery.charging'), 1)
  t.equal(find(w, 'battery.cycle_count'), undefined, 'Windows often reports 0 cycles: left out, not a fake value')
  t.same(fromSiBattery({ ...win, hasBattery: false }), [])
})

t.test('temperatures: CPU package and cores, NVMe named by disk, fans including a stopped one', async t => {
  const chips = await readHwmon(LAPTOP)
  const { metrics, unavailable } = sensorMetrics(chips)
  t.equal(find(metrics, 'temp.cpu_c'), 61, 'the package sensor')
  t.equal(find(metrics, 'temp.cpu_max_c'), 61)
  t.equal(find(metrics, 'temp.core_c', { core: '2' }), 57)
  t.equal(find(metrics, 'temp.disk_c', { device: 'nvme0n1' }), 38.9, 'the Composite sensor')
  t.equal(find(metrics, 'temp.sensor_c', { chip: 'acpitz', sensor: 'temp1' }), 48)
  t.equal(find(metrics, 'fan.rpm', { fan: 'thinkpad/fan1' }), 2650)
  t.equal(find(metrics, 'fan.rpm', { fan: 'thinkpad/fan2' }), 0)
  t.notOk(metrics.some(m => m.value === -128), 'the bogus -128 °C reading is dropped')
  t.same(unavailable, [])
  const none = await probeFor('temperatures', 'linux', { root: path.join(FIX, 'inventory') }).collect()
  t.match(none.unavailable?.[0].reason, /no temperature sensors/)
})

t.test('logged-in users from systemd-logind, else utmp; boot time from btime', async t => {
  t.same(await readLinuxUsers(LAPTOP), ['alice', 'gdm'], 'active first; lingering service users are not logged in')
  t.same(parseUtmp(fs.readFileSync(path.join(FIX, 'utmp', 'run', 'utmp'))), ['alice', 'bob'], 'USER_PROCESS records, distinct names')
  t.same(await readLinuxUsers(path.join(FIX, 'utmp')), ['alice', 'bob'])
  const r = await probeFor('system', 'linux', { root: LAPTOP }).collect()
  t.equal(find(r.metrics, 'system.users_count'), 2)
  t.equal(r.host?.user, 'alice')
  t.equal(r.host?.bootTime, new Date(1704787200 * 1000).toISOString())
})

t.test('host facts from os-release and DMI', async t => {
  t.equal(parseOsRelease(read('etc/os-release')).PRETTY_NAME, 'Ubuntu 22.04.3 LTS')
  const r = await probeFor('host', 'linux', { root: LAPTOP }).collect()
  t.match(r.host, { os: 'Ubuntu', osVersion: '22.04', manufacturer: 'LENOVO', model: '20XW0026GE ThinkPad X1 Carbon Gen 9', serial: 'PF2ABCDE' })
})

t.test('top processes by CPU and memory, grouped by name and bounded', async t => {
  const line = (pid: number, name: string, ticks: number, rssPages: number): string =>
    `${pid} (${name}) S 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${ticks} 0 0 0 20 0 1 0 100 1000000 ${rssPages} 184467440737 1 1 0 0 0`
  const p = parsePidStat(line(42, 'Web Content (pid) x', 10, 5))
  t.same(p, { pid: 42, name: 'Web Content (pid) x', cpuTicks: 10, rssBytes: 5 * 4096 }, 'names with spaces and parentheses')
  const before = new Map([[1, parsePidStat(line(1, 'chrome', 100, 1000))!], [2, parsePidStat(line(2, 'chrome', 100, 1000))!], [3, parsePidStat(line(3, 'sshd', 0, 10))!]])
  const after = [parsePidStat(line(1, 'chrome', 300, 1000))!, parsePidStat(line(2, 'chrome', 150, 2000))!, parsePidStat(line(3, 'sshd', 5, 10))!, parsePidStat(line(4, 'new', 50, 10))!]
  const m = topProcessMetrics(before, after, 10, 5)
  t.equal(find(m, 'proc.cpu_pct', { name: 'chrome' }), 25, '250 ticks over 10 s = 25 % of a core')
  t.equal(find(m, 'proc.rss_bytes', { name: 'chrome' }), 3000 * 4096)
  t.equal(find(m, 'proc.cpu_pct', { name: 'new' }), undefined, 'a process with no earlier sample has no CPU figure yet')
  const many = Array.from({ length: 20 }, (_, i) => parsePidStat(line(i + 10, `p${i}`, i, i + 1))!)
  t.equal(topProcessMetrics(new Map(), many, 1, 5).filter(x => x.name === 'proc.rss_bytes').length, 5, 'bounded to 5')
})
