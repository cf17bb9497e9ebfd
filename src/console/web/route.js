// Hash routing: `#/<page>/<args…>?<query>`, so a view (filters, metrics, an aggregates query)
// can be bookmarked and shared, and the server serves one document.
import { useEffect, useState } from 'preact/hooks'

/** @typedef {{ page: string, args: string[], query: URLSearchParams }} Route */

/** @returns {Route} */
export function parseHash(hash = location.hash) {
  const h = hash.replace(/^#\/?/, '')
  const q = h.indexOf('?')
  const path = q < 0 ? h : h.slice(0, q)
  const [page = '', ...args] = path.split('/').map(decodeURIComponent)
  return { page: page || 'status', args, query: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) }
}

/** The current route, re-rendered on every hash change. */
export function useRoute() {
  const [route, setRoute] = useState(parseHash)
  useEffect(() => {
    const on = () => setRoute(parseHash())
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}

/**
 * @param {string} path `page/args`
 * @param {URLSearchParams | Record<string, string | string[] | undefined>} [query]
 */
export function href(path, query) {
  const p = query instanceof URLSearchParams ? query : new URLSearchParams()
  if (!(query instanceof URLSearchParams) && query) {
    for (const [k, v] of Object.entries(query)) {
      for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== '') p.append(k, x)
    }
  }
  const s = p.toString()
  return `#/${path}${s ? `?${s}` : ''}`
}

/** Changes the URL without a new history entry for every keystroke-level state change. */
export function replaceRoute(/** @type {string} */ url) {
  if (location.hash !== url) {
    history.replaceState(null, '', url)
    dispatchEvent(new HashChangeEvent('hashchange'))
  }
}

export function navigate(/** @type {string} */ url) {
  location.hash = url.replace(/^#/, '')
}
