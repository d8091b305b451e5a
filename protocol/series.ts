/**
 * A series is one metric name plus its labels, e.g. `fs.used_pct{mount="/"}`.
 * The key is canonical (labels sorted) so the same series always has the same key
 * in the agent, the store, the detector and the dashboard.
 */
export function seriesKey (name: string, labels?: Record<string, string>): string {
  if (labels === undefined) return name
  const keys = Object.keys(labels)
  if (keys.length === 0) return name
  keys.sort()
  let out = name + '{'
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    if (i > 0) out += ','
    out += k + '=' + JSON.stringify(labels[k])
  }
  return out + '}'
}

/** Whether two label sets are equal (absent and `{}` are the same set). */
export function sameLabels (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true
  let na = 0
  let nb = 0
  if (a !== undefined) for (const k in a) { na++; if (b === undefined || b[k] !== a[k]) return false }
  if (b !== undefined) for (const _ in b) nb++
  return na === nb
}

/** Inverse of {@link seriesKey}; returns undefined for a malformed key. */
export function parseSeriesKey (key: string): { name: string, labels: Record<string, string> } | undefined {
  const brace = key.indexOf('{')
  if (brace === -1) return /^[a-z][a-z0-9_.]*$/.test(key) ? { name: key, labels: {} } : undefined
  if (!key.endsWith('}')) return undefined
  const name = key.slice(0, brace)
  const labels: Record<string, string> = {}
  const body = key.slice(brace + 1, -1)
  const re = /([a-z][a-z0-9_]*)=("(?:[^"\\]|\\.)*")(,|$)/gy
  let m: RegExpExecArray | null
  let consumed = 0
  while ((m = re.exec(body)) !== null) {
    try { labels[m[1]] = JSON.parse(m[2]) as string } catch { return undefined }
    consumed = re.lastIndex
    if (consumed >= body.length) break
  }
  if (consumed !== body.length) return undefined
  return { name, labels }
}
