/**
 * A small knowledge base and incidents phrased the way the detection engine
 * phrases them, each paired with the article a technician would pick. About
 * half the articles have no key patterns, so text similarity has to do the work.
 */
import type { ArticleBody } from '../../../collector/kb/model.js'
import type { Finding } from '../../../collector/detect/engine.js'

export const ARTICLES: Record<string, ArticleBody> = {
  diskFull: {
    title: 'System disk full: clear caches, old logs and the recycle bin',
    symptoms: 'The system disk (/ or C:) is above 90% used; applications fail to save files, updates fail.',
    cause: 'Browser caches, log files, old Windows updates and downloads pile up.',
    steps: ['Run Disk Cleanup / journalctl --vacuum-size', 'Empty the recycle bin and Downloads', 'Remove old kernels or update caches'],
    tags: ['disk', 'fs.used_pct'],
    findingKinds: ['threshold'],
    keyPatterns: ['rule:disk_full:*']
  },
  diskFill: {
    title: 'Disk filling up steadily: find the folder that grows',
    symptoms: 'A disk will be full in a few days at the current trend.',
    cause: 'A runaway log, a sync client or a backup writing to the local disk.',
    steps: ['Compare folder sizes over two days (WizTree / du)', 'Stop or move the growing writer']
  },
  memoryPressure: {
    title: 'Memory pressure: too many applications or browser tabs open',
    symptoms: 'Memory used above 90%, the machine is slow, memory usage unusual.',
    cause: 'Too many browser tabs or heavy applications for the installed RAM.',
    steps: ['Close unused applications', 'Suggest a RAM upgrade if it recurs'],
    tags: ['mem.used_pct', 'memory'],
    keyPatterns: ['rule:memory_pressure:*']
  },
  memoryLeak: {
    title: 'A process leaks memory until RAM is exhausted: restart and update it',
    symptoms: 'One process keeps growing its resident memory; RAM exhausted within hours.',
    cause: 'A known leak in an application version.',
    steps: ['Restart the process', 'Update the application to a fixed version'],
    keyPatterns: ['forecast:memory_leak:*']
  },
  cpuHot: {
    title: 'CPU overheating: clean the fans, replace thermal paste',
    symptoms: 'CPU temperature above 90 °C, throttling, fan noise.',
    cause: 'Dust in the heatsink and dried thermal paste.',
    steps: ['Blow out the vents', 'Replace the thermal paste', 'Check the fan spins']
  },
  smartFailing: {
    title: 'Disk fails its SMART self-assessment: back up now and replace the drive',
    symptoms: 'SMART overall health check failed.',
    cause: 'The drive predicts its own failure.',
    steps: ['Back up the user data today', 'Replace the disk', 'Reimage'],
    keyPatterns: ['rule:smart_failing:*']
  },
  sectors: {
    title: 'Reallocated or pending sectors growing: schedule a disk replacement',
    symptoms: 'The disk reports reallocated sectors or pending sectors, and the count grows.',
    cause: 'Surface wear or damage on a hard disk.',
    steps: ['Back up', 'Order a replacement disk', 'Replace at the next visit'],
    keyPatterns: ['rule:smart_reallocated:*', 'rule:smart_pending:*', 'forecast:sectors_growing:*']
  },
  ssdWorn: {
    title: 'SSD worn out: plan its replacement',
    symptoms: 'The SSD has used most of its rated life (percentage used / wear).',
    cause: 'Heavy writes over years.',
    steps: ['Check the warranty', 'Plan the replacement'],
    keyPatterns: ['rule:ssd_worn:*', 'forecast:ssd_wear_out:*']
  },
  battery: {
    title: 'Worn battery: order a replacement',
    symptoms: 'The battery holds much less than its design capacity; battery health drops; the laptop does not last the day.',
    cause: 'Charge cycles and age.',
    steps: ['Confirm with the vendor diagnostic', 'Order the battery part for the model']
  },
  offline: {
    title: 'Machine silent at an hour it is usually online: check power and network',
    symptoms: 'A desktop that is normally on stops reporting during office hours.',
    cause: 'Power cut, unplugged network cable, crashed agent or OS.',
    steps: ['Call the user', 'Check the switch port', 'Check the agent service'],
    findingKinds: ['offline'],
    keyPatterns: ['offline']
  },
  nic: {
    title: 'Network interface receive errors: replace the cable or update the NIC driver',
    symptoms: 'The network interface receives errors every second; slow or dropping network.',
    cause: 'A damaged cable, a bad switch port or an old driver.',
    steps: ['Swap the patch cable', 'Try another switch port', 'Update the network driver']
  },
  swap: {
    title: 'Swap thrashing: add RAM or reduce startup programs',
    symptoms: 'Swap used above 80%; disk busy; everything slow.',
    cause: 'Not enough RAM for the workload.',
    steps: ['Disable startup programs', 'Add RAM'],
    keyPatterns: ['rule:swap_thrash:*']
  },
  teams: {
    title: 'Teams update raises CPU load: roll back to the previous version',
    symptoms: 'CPU load unusual after Teams updated on many machines.',
    cause: 'A regression in the new Teams build.',
    steps: ['Roll back Teams with the deployment tool', 'Pin the previous version until the vendor fixes it'],
    tags: ['Teams']
  },
  slowBoot: {
    title: 'Boots much slower than identical machines: trim startup items',
    symptoms: 'Boot time far longer than its siblings of the same model.',
    cause: 'Extra startup items, a failing disk, or a pending update loop.',
    steps: ['Review startup items', 'Check disk health', 'Finish pending updates']
  },
  hotter: {
    title: 'Runs hotter than its siblings at similar load: check the fan',
    symptoms: 'CPU temperature at idle well above identical machines.',
    cause: 'A clogged or failing fan on this unit.',
    steps: ['Inspect the fan', 'Clean or replace it']
  }
}

type F = Pick<Finding, 'kind' | 'key' | 'title'> & Partial<Finding>

/** incident finding → expected article (key into ARTICLES) */
export const PAIRS: Array<[F, string]> = [
  [{ kind: 'threshold', key: 'rule:disk_full:fs.used_pct{mount="/"}', series: 'fs.used_pct{mount="/"}', title: 'Disk / is 95% full' }, 'diskFull'],
  [{ kind: 'threshold', key: 'rule:disk_full:fs.used_pct{mount="C:"}', series: 'fs.used_pct{mount="C:"}', title: 'Disk C: is 92% full' }, 'diskFull'],
  [{ kind: 'forecast', key: 'forecast:disk_fill:fs.used_pct{mount="/"}', series: 'fs.used_pct{mount="/"}', title: 'Disk / will be full in 2.3 days' }, 'diskFill'],
  [{ kind: 'forecast', key: 'forecast:disk_fill:fs.used_pct{mount="D:"}', series: 'fs.used_pct{mount="D:"}', title: 'Disk D: will be full in 5.0 days' }, 'diskFill'],
  [{ kind: 'threshold', key: 'rule:memory_pressure:mem.used_pct', series: 'mem.used_pct', title: 'Memory 95% used' }, 'memoryPressure'],
  [{ kind: 'anomaly', key: 'anomaly:mem.used_pct', series: 'mem.used_pct', title: 'mem.used_pct unusual: 97 (usually ≈ 60)' }, 'memoryPressure'],
  [{ kind: 'forecast', key: 'forecast:memory_leak:proc.rss_bytes{name="chrome"}', series: 'proc.rss_bytes{name="chrome"}', title: 'Process chrome leaks memory: RAM exhausted in 5.1 h' }, 'memoryLeak'],
  [{ kind: 'threshold', key: 'rule:cpu_hot:temp.cpu_c', series: 'temp.cpu_c', title: 'CPU at 96 °C' }, 'cpuHot'],
  [{ kind: 'threshold', key: 'rule:smart_failing:smart.healthy{device="sda"}', series: 'smart.healthy{device="sda"}', title: 'Disk sda fails its SMART self-assessment' }, 'smartFailing'],
  [{ kind: 'threshold', key: 'rule:smart_reallocated:smart.reallocated_sectors{device="sda"}', series: 'smart.reallocated_sectors{device="sda"}', title: 'Disk sda has 12 reallocated sectors' }, 'sectors'],
  [{ kind: 'forecast', key: 'forecast:sectors_growing:smart.reallocated_sectors{device="sdb"}', series: 'smart.reallocated_sectors{device="sdb"}', title: 'Disk sdb reallocated sectors growing: 100 in 12.0 days' }, 'sectors'],
  [{ kind: 'threshold', key: 'rule:ssd_worn:smart.wear_pct{device="nvme0"}', series: 'smart.wear_pct{device="nvme0"}', title: 'SSD nvme0 has used 85% of its life' }, 'ssdWorn'],
  [{ kind: 'threshold', key: 'rule:battery_worn:battery.health_pct', series: 'battery.health_pct', title: 'Battery holds 55% of its design capacity' }, 'battery'],
  [{ kind: 'forecast', key: 'forecast:battery_fade:battery.health_pct', series: 'battery.health_pct', title: 'Battery will drop below 40% health in 30.0 days' }, 'battery'],
  [{ kind: 'offline', key: 'offline', title: 'Silent for 45 min at an hour it is usually online' }, 'offline'],
  [{ kind: 'threshold', key: 'rule:nic_errors:net.rx_errors_per_sec{iface="eth0"}', series: 'net.rx_errors_per_sec{iface="eth0"}', title: 'Network eth0 receives 3 errors/s' }, 'nic'],
  [{ kind: 'threshold', key: 'rule:swap_thrash:swap.used_pct', series: 'swap.used_pct', title: 'Swap 90% used' }, 'swap'],
  [{ kind: 'anomaly', key: 'anomaly:cpu.load_pct', series: 'cpu.load_pct', title: 'cpu.load_pct unusual: 85 (usually ≈ 12)', suspectedChange: { app: 'Teams', from: '1.2', to: '1.3', affected: 9, updated: 10 } }, 'teams'],
  [{ kind: 'outlier', key: 'outlier:boot_time', series: 'system.boot_duration_s', title: 'Boots in 95 s vs 40 s for its Latitude 5520 / Windows 11 siblings' }, 'slowBoot'],
  [{ kind: 'outlier', key: 'outlier:idle_temperature', series: 'temp.cpu_c', title: 'Runs 12 °C hotter than its Latitude 5520 / Windows 11 siblings at similar load' }, 'hotter']
]
