/**
 * Hash routing: `#/`, `#/machines/:id`, `#/incidents`, `#/incidents/:id`,
 * `#/kb`, `#/kb/new`, `#/kb/:id`, `#/kb/:id/edit`, `#/tv`. Query parameters
 * after the path (`#/?status=critical`) carry a view's filters so a view can be
 * linked and survives a reload; views update them with `replaceQuery`.
 */
export interface Route { parts: string[], query: URLSearchParams }

export function currentRoute (): Route {
  const raw = location.hash.replace(/^#/, '')
  const [path, query = ''] = raw.split('?')
  const parts = path.split('/').filter(p => p !== '').map(decodeURIComponent)
  return { parts, query: new URLSearchParams(query) }
}

/** Goes to a route (adds a history entry). */
export function navigate (path: string): void {
  const target = '#' + path
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'))
  else location.hash = path
}

/** Rewrites the current route's query without a history entry or a re-route. */
export function replaceQuery (params: Record<string, string | undefined>): void {
  const { parts, query } = currentRoute()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') query.delete(k)
    else query.set(k, v)
  }
  const q = query.toString()
  const hash = '#/' + parts.map(encodeURIComponent).join('/') + (q === '' ? '' : '?' + q)
  history.replaceState(history.state, '', location.pathname + location.search + hash)
}

export function href (...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/')
}
