/**
 * Finding keys and the patterns that match them, shared by silences and the
 * knowledge base. Keys look like `rule:disk_full:fs.used_pct{mount="/"}`,
 * `anomaly:cpu.load_pct`, `forecast:disk_fill:…`, `offline`, `outlier:boot_time`,
 * `change:<app>:<version>:<key>`. A pattern is the key with `*` for any run of
 * characters, e.g. `rule:disk_full:*` or `*{mount="/"}`.
 */

const cache = new Map<string, RegExp>()

/** True when `pattern` (with `*` wildcards, otherwise literal) matches the whole key. */
export function matchesKeyPattern (pattern: string, key: string): boolean {
  let re = cache.get(pattern)
  if (re === undefined) {
    re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's')
    if (cache.size > 1000) cache.clear()
    cache.set(pattern, re)
  }
  return re.test(key)
}

/**
 * The detector and rule behind a key, without the series' labels: what makes
 * two incidents "the same problem" on different machines or disks.
 * `rule:disk_full:fs.used_pct{mount="/"}` → `rule:disk_full`; `anomaly:cpu.load_pct{core="0"}` → `anomaly:cpu.load_pct`.
 */
export function keyFamily (key: string): string {
  const brace = key.indexOf('{')
  const head = brace === -1 ? key : key.slice(0, brace)
  const parts = head.split(':')
  return parts.slice(0, 2).join(':')
}

/** A pattern matching every key of the same family: `rule:disk_full:*`. */
export function familyPattern (key: string): string {
  const fam = keyFamily(key)
  if (fam === key) return fam
  return key[fam.length] === ':' ? fam + ':*' : fam + '*'
}

/** Metric name of a series key: `fs.used_pct{mount="/"}` → `fs.used_pct`. */
export function metricOf (series: string | null | undefined): string | undefined {
  if (series === null || series === undefined || series === '') return undefined
  const brace = series.indexOf('{')
  return brace === -1 ? series : series.slice(0, brace)
}
