/**
 * What the simulated fleet is made of: hardware models (each with its own thermal
 * profile), OS builds, and a software catalogue whose versions roll out over time.
 * Plain data; fleet.ts draws from it with the run's seed.
 */

export type MachineKind = 'laptop' | 'desktop'
export type OsFamily = 'windows' | 'macos' | 'linux'

export interface HardwareModel {
  kind: MachineKind
  manufacturer: string
  model: string
  cpuModel: string
  cores: number
  memOptionsGiB: number[]
  diskOptionsGB: number[]
  /** CPU temperature at idle in a 21 °C office, °C */
  idleTempC: number
  /** °C added per percent of CPU load */
  tempPerLoadPct: number
  /** laptops: design capacity of the battery, Wh */
  batteryWh?: number
  /** which OS families ship on it */
  os: OsFamily[]
  /** relative share in the fleet */
  weight: number
}

export const HARDWARE: readonly HardwareModel[] = [
  { kind: 'laptop', manufacturer: 'Dell Inc.', model: 'Latitude 7440', cpuModel: 'Intel Core i7-1365U', cores: 10, memOptionsGiB: [16, 32], diskOptionsGB: [256, 512], idleTempC: 44, tempPerLoadPct: 0.42, batteryWh: 57, os: ['windows', 'linux'], weight: 5 },
  { kind: 'laptop', manufacturer: 'LENOVO', model: 'ThinkPad T14 Gen 4', cpuModel: 'AMD Ryzen 7 PRO 7840U', cores: 8, memOptionsGiB: [16, 32], diskOptionsGB: [512, 1024], idleTempC: 41, tempPerLoadPct: 0.38, batteryWh: 52.5, os: ['windows', 'linux'], weight: 4 },
  { kind: 'laptop', manufacturer: 'HP', model: 'EliteBook 840 G10', cpuModel: 'Intel Core i5-1345U', cores: 10, memOptionsGiB: [16], diskOptionsGB: [256, 512], idleTempC: 47, tempPerLoadPct: 0.45, batteryWh: 51, os: ['windows'], weight: 4 },
  { kind: 'laptop', manufacturer: 'Apple Inc.', model: 'MacBookAir15,13', cpuModel: 'Apple M2', cores: 8, memOptionsGiB: [8, 16], diskOptionsGB: [256, 512], idleTempC: 38, tempPerLoadPct: 0.55, batteryWh: 66.5, os: ['macos'], weight: 3 },
  { kind: 'laptop', manufacturer: 'Framework', model: 'Laptop 13 (AMD Ryzen 7040)', cpuModel: 'AMD Ryzen 5 7640U', cores: 6, memOptionsGiB: [16, 32], diskOptionsGB: [512, 1024], idleTempC: 43, tempPerLoadPct: 0.4, batteryWh: 61, os: ['linux'], weight: 1 },
  { kind: 'desktop', manufacturer: 'Dell Inc.', model: 'OptiPlex 7010', cpuModel: 'Intel Core i5-13500', cores: 14, memOptionsGiB: [16, 32], diskOptionsGB: [512], idleTempC: 36, tempPerLoadPct: 0.33, os: ['windows'], weight: 5 },
  { kind: 'desktop', manufacturer: 'HP', model: 'EliteDesk 800 G9 SFF', cpuModel: 'Intel Core i7-12700', cores: 12, memOptionsGiB: [16, 32], diskOptionsGB: [512, 1024], idleTempC: 38, tempPerLoadPct: 0.36, os: ['windows', 'linux'], weight: 3 },
  { kind: 'desktop', manufacturer: 'LENOVO', model: 'ThinkCentre M70q Gen 4', cpuModel: 'Intel Core i5-13400T', cores: 10, memOptionsGiB: [8, 16], diskOptionsGB: [256, 512], idleTempC: 42, tempPerLoadPct: 0.4, os: ['windows', 'linux'], weight: 3 }
]

export interface OsBuild {
  family: OsFamily
  /** HostFacts.os as the agent reports it */
  os: string
  osVersion: string
  kernel: string
  arch: string
  weight: number
}

export const OS_BUILDS: readonly OsBuild[] = [
  { family: 'windows', os: 'Microsoft Windows 11 Pro', osVersion: '10.0.22631', kernel: '10.0.22631', arch: 'x64', weight: 5 },
  { family: 'windows', os: 'Microsoft Windows 11 Pro', osVersion: '10.0.26100', kernel: '10.0.26100', arch: 'x64', weight: 3 },
  { family: 'windows', os: 'Microsoft Windows 10 Pro', osVersion: '10.0.19045', kernel: '10.0.19045', arch: 'x64', weight: 2 },
  { family: 'macos', os: 'macOS', osVersion: '14.7.1', kernel: '23.6.0', arch: 'arm64', weight: 2 },
  { family: 'macos', os: 'macOS', osVersion: '15.1', kernel: '24.1.0', arch: 'arm64', weight: 1 },
  { family: 'linux', os: 'Ubuntu', osVersion: '22.04.5 LTS', kernel: '6.8.0-49-generic', arch: 'x64', weight: 2 },
  { family: 'linux', os: 'Ubuntu', osVersion: '24.04.1 LTS', kernel: '6.8.0-51-generic', arch: 'x64', weight: 2 },
  { family: 'linux', os: 'Debian GNU/Linux', osVersion: '12', kernel: '6.1.0-28-amd64', arch: 'x64', weight: 1 }
]

/** What the filesystem, disk and network interface are called on each OS family. */
export const OS_NAMES: Record<OsFamily, { mount: string, disk: string, wifi: string, ether: string, source: string }> = {
  windows: { mount: 'C:', disk: 'PhysicalDrive0', wifi: 'Wi-Fi', ether: 'Ethernet', source: 'windows' },
  macos: { mount: '/', disk: 'disk0', wifi: 'en0', ether: 'en1', source: 'macos' },
  linux: { mount: '/', disk: 'nvme0n1', wifi: 'wlp0s20f3', ether: 'enp0s31f6', source: 'dpkg' }
}

/**
 * One application. Release r comes out `r × releaseEveryDays` days after the fleet
 * epoch (shifted by a per-app phase) and reaches each machine after a per-machine
 * delay of up to `rolloutDays` (deterministic per seed, machine and release), so
 * updates roll through the fleet whatever the date of the run.
 */
export interface CatalogApp {
  name: string
  os: OsFamily[]
  /** share of eligible machines that have it installed */
  share: number
  /** version string of release r (r ≥ 0) */
  version: (r: number) => string
  releaseEveryDays: number
  rolloutDays: number
  /** a process the app runs while the user works, with its usual resident size and CPU */
  process?: { name: string, rssMiB: number, cpuPct: number }
}

export const APPS: readonly CatalogApp[] = [
  { name: 'Google Chrome', os: ['windows', 'macos', 'linux'], share: 0.8, version: r => `${120 + r}.0.${6000 + r * 60}.${80 + r % 50}`, releaseEveryDays: 28, rolloutDays: 6, process: { name: 'chrome', rssMiB: 900, cpuPct: 4 } },
  { name: 'Mozilla Firefox', os: ['windows', 'macos', 'linux'], share: 0.3, version: r => `${120 + r}.0`, releaseEveryDays: 28, rolloutDays: 5, process: { name: 'firefox', rssMiB: 700, cpuPct: 3 } },
  { name: 'Microsoft Edge', os: ['windows'], share: 1, version: r => `${120 + r}.0.${2200 + r * 50}.${40 + r % 30}`, releaseEveryDays: 28, rolloutDays: 4, process: { name: 'msedge', rssMiB: 450, cpuPct: 2 } },
  { name: 'Microsoft Teams', os: ['windows', 'macos'], share: 0.9, version: r => `${24 + Math.floor(r / 24)}.${100 + (r % 24) * 14}.${2800 + r * 11}.${3000 + r}`, releaseEveryDays: 14, rolloutDays: 7, process: { name: 'ms-teams', rssMiB: 650, cpuPct: 3 } },
  { name: 'Microsoft Outlook', os: ['windows', 'macos'], share: 0.85, version: r => `16.0.${17000 + r * 100}.20${100 + r % 900}`, releaseEveryDays: 30, rolloutDays: 10, process: { name: 'outlook', rssMiB: 380, cpuPct: 1.5 } },
  { name: 'Microsoft Word', os: ['windows', 'macos'], share: 0.85, version: r => `16.0.${17000 + r * 100}.20${100 + r % 900}`, releaseEveryDays: 30, rolloutDays: 10 },
  { name: 'Microsoft Excel', os: ['windows', 'macos'], share: 0.85, version: r => `16.0.${17000 + r * 100}.20${100 + r % 900}`, releaseEveryDays: 30, rolloutDays: 10 },
  { name: 'Microsoft OneDrive', os: ['windows', 'macos'], share: 0.8, version: r => `${24 + Math.floor(r / 26)}.${100 + (r % 26) * 12}.0909.000${r % 3}`, releaseEveryDays: 14, rolloutDays: 10, process: { name: 'onedrive', rssMiB: 120, cpuPct: 0.5 } },
  { name: 'Microsoft Defender', os: ['windows'], share: 1, version: r => `4.18.${24000 + r * 30}.${5 + r % 10}`, releaseEveryDays: 30, rolloutDays: 3, process: { name: 'MsMpEng', rssMiB: 260, cpuPct: 1.2 } },
  { name: 'Slack', os: ['windows', 'macos', 'linux'], share: 0.4, version: r => `4.${35 + r}.${100 + r}`, releaseEveryDays: 21, rolloutDays: 8, process: { name: 'slack', rssMiB: 400, cpuPct: 1.5 } },
  { name: 'Zoom Workplace', os: ['windows', 'macos', 'linux'], share: 0.5, version: r => `${5 + Math.floor(r / 12)}.${r % 12}.${40000 + r * 100}`, releaseEveryDays: 21, rolloutDays: 10 },
  { name: 'Contoso VPN', os: ['windows', 'macos', 'linux'], share: 0.7, version: r => `5.${Math.floor(r / 3)}.${(r % 3) * 2}`, releaseEveryDays: 45, rolloutDays: 5, process: { name: 'contosovpn', rssMiB: 60, cpuPct: 0.3 } },
  { name: '7-Zip', os: ['windows'], share: 0.6, version: r => `${23 + Math.floor(r / 4)}.0${1 + r % 4}`, releaseEveryDays: 60, rolloutDays: 20 },
  { name: 'Notepad++', os: ['windows'], share: 0.3, version: r => `8.${5 + Math.floor(r / 3)}.${r % 3 + 1}`, releaseEveryDays: 40, rolloutDays: 15 },
  { name: 'Adobe Acrobat Reader', os: ['windows', 'macos'], share: 0.75, version: r => `${23 + Math.floor(r / 12)}.00${1 + r % 12}.200${10 + r % 80}`, releaseEveryDays: 30, rolloutDays: 12, process: { name: 'AcroRd32', rssMiB: 180, cpuPct: 0.2 } },
  { name: 'VLC media player', os: ['windows', 'macos', 'linux'], share: 0.35, version: r => `3.0.${16 + r}`, releaseEveryDays: 90, rolloutDays: 30 },
  { name: 'Visual Studio Code', os: ['windows', 'macos', 'linux'], share: 0.25, version: r => `1.${85 + r}.${r % 2}`, releaseEveryDays: 30, rolloutDays: 5, process: { name: 'code', rssMiB: 600, cpuPct: 2.5 } },
  { name: 'Git', os: ['windows', 'macos', 'linux'], share: 0.25, version: r => `2.${43 + r}.${r % 3}`, releaseEveryDays: 45, rolloutDays: 10 },
  { name: 'Python', os: ['windows', 'macos', 'linux'], share: 0.25, version: r => `3.${12 + Math.floor(r / 8)}.${r % 8}`, releaseEveryDays: 45, rolloutDays: 20 },
  { name: 'Docker Desktop', os: ['windows', 'macos'], share: 0.12, version: r => `4.${28 + r}.0`, releaseEveryDays: 30, rolloutDays: 7, process: { name: 'com.docker.backend', rssMiB: 1100, cpuPct: 3 } },
  { name: 'KeePassXC', os: ['windows', 'macos', 'linux'], share: 0.2, version: r => `2.7.${5 + r}`, releaseEveryDays: 90, rolloutDays: 20 },
  { name: 'LibreOffice', os: ['windows', 'linux'], share: 0.3, version: r => `${24 + Math.floor(r / 6)}.${2 + 6 * (Math.floor(r / 3) % 2)}.${r % 3 * 2 + 1}`, releaseEveryDays: 45, rolloutDays: 25 },
  { name: 'Citrix Workspace', os: ['windows', 'macos'], share: 0.2, version: r => `${24 + Math.floor(r / 4)}${['02', '05', '09', '11'][r % 4]}`, releaseEveryDays: 60, rolloutDays: 15 },
  { name: 'CrowdStrike Falcon Sensor', os: ['windows', 'macos', 'linux'], share: 0.95, version: r => `7.${10 + r}.${18000 + r * 100}.0`, releaseEveryDays: 21, rolloutDays: 4, process: { name: 'falcon-sensor', rssMiB: 180, cpuPct: 0.8 } },
  { name: 'Intel Graphics Driver', os: ['windows'], share: 0.7, version: r => `31.0.101.${5000 + r * 111}`, releaseEveryDays: 75, rolloutDays: 30 },
  { name: 'Dell Command Update', os: ['windows'], share: 0.3, version: r => `5.${r}.0`, releaseEveryDays: 90, rolloutDays: 30 },
  { name: 'Lenovo Vantage', os: ['windows'], share: 0.25, version: r => `10.${2400 + r * 3}.${10 + r}.0`, releaseEveryDays: 90, rolloutDays: 30 },
  { name: 'openssl', os: ['linux'], share: 1, version: r => `3.0.${13 + Math.floor(r / 3)}-0ubuntu3.${r % 3 + 1}`, releaseEveryDays: 50, rolloutDays: 3 },
  { name: 'linux-firmware', os: ['linux'], share: 1, version: r => `2024${String(1 + r % 12).padStart(2, '0')}${10 + r % 18}.git${(0x3b128b60 + r * 7919).toString(16).slice(0, 8)}`, releaseEveryDays: 60, rolloutDays: 5 },
  { name: 'gnome-shell', os: ['linux'], share: 0.9, version: r => `${46 + Math.floor(r / 4)}.${r % 4}-0ubuntu5`, releaseEveryDays: 60, rolloutDays: 7, process: { name: 'gnome-shell', rssMiB: 350, cpuPct: 1.5 } },
  { name: 'Homebrew', os: ['macos'], share: 0.3, version: r => `4.${3 + Math.floor(r / 8)}.${r % 8 * 3}`, releaseEveryDays: 40, rolloutDays: 10 },
  { name: 'Rectangle', os: ['macos'], share: 0.2, version: r => `0.${80 + r}`, releaseEveryDays: 60, rolloutDays: 20 },
  { name: 'Figma', os: ['windows', 'macos'], share: 0.1, version: r => `${120 + Math.floor(r / 6)}.${r % 6}.${r % 4}`, releaseEveryDays: 21, rolloutDays: 5, process: { name: 'figma_agent', rssMiB: 500, cpuPct: 2 } }
]

/** Sites, for plausible hostnames. */
export const SITES = ['PAR', 'LYO', 'NTE', 'BDX', 'LIL', 'TLS'] as const
export const USERS_FIRST = ['alice', 'bruno', 'chloe', 'david', 'emma', 'farid', 'gaelle', 'hugo', 'ines', 'julien', 'karima', 'louis', 'manon', 'nathan', 'oceane', 'paul', 'quentin', 'rose', 'samir', 'tania', 'ugo', 'victor', 'wassim', 'yasmine', 'zoe'] as const
export const USERS_LAST = ['martin', 'bernard', 'dubois', 'thomas', 'robert', 'richard', 'petit', 'durand', 'leroy', 'moreau', 'simon', 'laurent', 'lefebvre', 'michel', 'garcia', 'david', 'bertrand', 'roux', 'vincent', 'fournier'] as const
