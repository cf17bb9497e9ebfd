/**
 * Upstream `HTTPProxyToWSGI` (enabled by `[api] enable_proxy_headers_parsing`): the first
 * entry of RFC 7239 `Forwarded`, else legacy `X-Forwarded-Proto/Host/For`, rewrite scheme,
 * host and remote address; `X-Forwarded-Prefix` is prepended to the script name.
 */

export interface RequestOrigin {
  readonly scheme: string
  /** The `Host` value as received or forwarded (may include a port). */
  readonly host: string
  readonly remoteAddr: string
  /** Path prefix the application is mounted under (`''` or `/gnocchi`). */
  readonly scriptPrefix: string
}

type Headers = Readonly<Record<string, string | string[] | undefined>>

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function parseForwarded(header: string): Array<Record<string, string>> {
  return header.split(',').map((proxy) => {
    const entry: Record<string, string> = {}
    for (const d of proxy.split(';')) {
      const eq = d.indexOf('=')
      const key = (eq < 0 ? d : d.slice(0, eq)).trim().toLowerCase()
      entry[key] = eq < 0 ? '' : d.slice(eq + 1).trim()
    }
    return entry
  })
}

export function requestOrigin(
  headers: Headers,
  local: { scheme: string; host: string; remoteAddr: string },
  parseProxyHeaders: boolean,
): RequestOrigin {
  let { scheme, host, remoteAddr } = local
  let scriptPrefix = ''
  if (parseProxyHeaders) {
    const fwd = first(headers.forwarded)
    if (fwd) {
      const proxy = parseForwarded(fwd)[0]
      if (proxy) {
        if (proxy.proto) scheme = proxy.proto
        if (proxy.host) host = proxy.host
        if (proxy.for) remoteAddr = proxy.for
      }
    } else {
      const proto = first(headers['x-forwarded-proto'])
      if (proto) scheme = proto
      const fhost = first(headers['x-forwarded-host'])
      if (fhost) host = fhost
      const ffor = first(headers['x-forwarded-for'])
      if (ffor) remoteAddr = ffor
    }
    const prefix = first(headers['x-forwarded-prefix'])
    if (prefix) scriptPrefix = prefix
  }
  return { scheme, host, remoteAddr, scriptPrefix }
}

/** webob `host_url`: scheme://host[:port], dropping the scheme's default port. */
export function hostUrl(origin: RequestOrigin): string {
  let host = origin.host
  let port: string | undefined
  const colon = host.lastIndexOf(':')
  if (colon >= 0 && !host.endsWith(']')) {
    port = host.slice(colon + 1)
    host = host.slice(0, colon)
  }
  if ((origin.scheme === 'https' && port === '443') || (origin.scheme === 'http' && port === '80'))
    port = undefined
  return `${origin.scheme}://${host}${port ? `:${port}` : ''}`
}

const UNRESERVED = /[A-Za-z0-9_.\-~]/

/** Python `urllib.parse.quote(s, safe)` (UTF-8). */
export function pyQuote(s: string, safe = '/'): string {
  let out = ''
  for (const ch of s) {
    if (UNRESERVED.test(ch) || safe.includes(ch)) {
      out += ch
      continue
    }
    for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Python `urllib.parse.quote_plus(s)`: like quote with `safe=''`, spaces become `+`. */
export function pyQuotePlus(s: string): string {
  return pyQuote(s, ' ').replace(/ /g, '+')
}

/** Python `urlencode(sorted(options.items()), doseq=True)`. */
export function pyUrlencode(
  options: ReadonlyArray<readonly [string, string | number | readonly string[]]>,
): string {
  const parts: string[] = []
  for (const [k, v] of options) {
    const values = Array.isArray(v) ? v : [String(v)]
    for (const x of values) parts.push(`${pyQuotePlus(k)}=${pyQuotePlus(String(x))}`)
  }
  return parts.join('&')
}
