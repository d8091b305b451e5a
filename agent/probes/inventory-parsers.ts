/**
 * Parsers for each OS's list of installed software and pending updates. Pure
 * functions over the tools' recorded output, so every OS is tested on any OS
 * (test/fixtures/agent/inventory/).
 */
import type { App } from '../sample.js'

const clip = (s: string, n: number): string => s.trim().slice(0, n)

/** `dpkg-query -W -f '${db:Status-Abbrev}\t${Package}\t${Version}\n'`: installed ('ii') and held ('hi') packages. */
export function parseDpkg (stdout: string): App[] {
  const out: App[] = []
  for (const line of stdout.split('\n')) {
    const [status, name, version] = line.split('\t')
    if (version === undefined || !/^[ih]i/.test(status)) continue
    out.push({ name: clip(name, 256), version: clip(version, 128), source: 'dpkg' })
  }
  return out
}

/** `rpm -qa --queryformat '%{NAME}\t%{VERSION}-%{RELEASE}\n'`. */
export function parseRpm (stdout: string): App[] {
  const out: App[] = []
  for (const line of stdout.split('\n')) {
    const [name, version] = line.split('\t')
    // Imported signing keys are listed as packages named gpg-pubkey.
    if (version === undefined || name === 'gpg-pubkey' || name.trim() === '') continue
    out.push({ name: clip(name, 256), version: clip(version, 128), source: 'rpm' })
  }
  return out
}

interface SpApp { _name?: string, version?: string, path?: string, obtained_from?: string }

/** `system_profiler SPApplicationsDataType -json`: applications, without OS internals and bundles nested in other apps. */
export function parseSystemProfiler (stdout: string): App[] {
  const doc = JSON.parse(stdout) as { SPApplicationsDataType?: SpApp[] }
  const out: App[] = []
  for (const a of doc.SPApplicationsDataType ?? []) {
    if (a._name === undefined || a._name === '') continue
    const p = a.path ?? ''
    if (/^\/(System\/Library|Library\/Apple|usr)\//.test(p) || /\.app\/.+\.app$/.test(p)) continue
    out.push({ name: clip(a._name, 256), version: clip(a.version ?? '', 128), source: 'macos' })
  }
  return out
}

interface WinEntry { DisplayName?: string | null, DisplayVersion?: string | null, Publisher?: string | null }

/** The JSON of our PowerShell registry query: an array, a single object (one entry), or nothing. */
export function parseWindowsUninstall (stdout: string): App[] {
  const text = stdout.replace(/^\uFEFF/, '').trim()
  if (text === '') return []
  const parsed = JSON.parse(text) as WinEntry | WinEntry[]
  const list = Array.isArray(parsed) ? parsed : [parsed]
  const out: App[] = []
  for (const e of list) {
    if (typeof e.DisplayName !== 'string' || e.DisplayName.trim() === '') continue
    out.push({ name: clip(e.DisplayName, 256), version: clip(e.DisplayVersion ?? '', 128), source: 'windows' })
  }
  return out
}

/** Ubuntu's /var/lib/update-notifier/updates-available (both the old and the current wording). */
export function parseUpdateNotifier (text: string): number | undefined {
  const m = /(\d+) (?:updates? can be applied|packages? can be updated)/.exec(text)
  if (m !== null) return Number(m[1])
  if (/system is up to date|0 updates/i.test(text)) return 0
  return undefined
}

/** `apt-get -s upgrade`: one `Inst` line per package that would be upgraded. */
export function parseAptSimulate (stdout: string): number {
  let n = 0
  for (const line of stdout.split('\n')) if (line.startsWith('Inst ')) n++
  return n
}

/** `dnf -C -q check-update` (exit 100 when updates exist): one `name.arch version repo` line per update. */
export function parseDnfCheckUpdate (stdout: string): number {
  let n = 0
  for (const line of stdout.split('\n')) {
    if (/^(Obsoleting|Security:|Last metadata)/.test(line)) break
    if (/^\S+\.\S+\s+\S+\s+\S+\s*$/.test(line)) n++
  }
  return n
}

/**
 * One entry per (source, name): multi-arch dpkg packages and parallel rpm
 * kernels repeat a name; the collector keys inventory by name, so keep the
 * highest version.
 */
export function normalizeApps (apps: readonly App[]): App[] {
  const byKey = new Map<string, App>()
  for (const a of apps) {
    const key = `${a.source ?? ''}\u0000${a.name}`
    const prev = byKey.get(key)
    if (prev === undefined || prev.version.localeCompare(a.version, 'en', { numeric: true }) < 0) byKey.set(key, a)
  }
  return [...byKey.values()].sort((a, b) => a.name.localeCompare(b.name, 'en') || (a.source ?? '').localeCompare(b.source ?? ''))
}
