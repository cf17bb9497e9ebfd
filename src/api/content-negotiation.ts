/**
 * `Accept` / `Content-Type` handling as webob's `acceptable_offers` and werkzeug's
 * `parse_options_header` do it: q-values, specificity (`type/subtype` beats `type/*` beats
 * `*\/*`), offers kept in the caller's preference order on ties.
 */

interface MediaRange {
  readonly type: string
  readonly subtype: string
  readonly q: number
}

/** Parses an Accept header; undefined when it is syntactically invalid (webob ignores it then). */
export function parseAccept(header: string): MediaRange[] | undefined {
  const ranges: MediaRange[] = []
  for (const part of header.split(',')) {
    const item = part.trim()
    if (item === '') continue
    const [mediaRaw, ...params] = item.split(';')
    const media = mediaRaw.trim().toLowerCase()
    const slash = media.indexOf('/')
    if (slash <= 0 || slash === media.length - 1) return undefined
    const type = media.slice(0, slash)
    const subtype = media.slice(slash + 1)
    if (type === '*' && subtype !== '*') return undefined
    let q = 1
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim())
      if (k.toLowerCase() === 'q') {
        if (v === undefined || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(v)) return undefined
        q = Number(v)
      }
    }
    ranges.push({ type, subtype, q })
  }
  return ranges
}

/**
 * webob `acceptable_offers`: offers with q > 0, best first (stable on ties). A missing header
 * accepts everything; an empty or invalid header value accepts nothing when `emptyAcceptsNone`.
 */
export function acceptableOffers(header: string | undefined, offers: readonly string[]): string[] {
  if (header === undefined) return [...offers]
  const ranges = parseAccept(header)
  if (ranges === undefined) return [...offers]
  const scored: Array<{ offer: string; q: number; index: number }> = []
  offers.forEach((offer, index) => {
    const [type, subtype] = offer.toLowerCase().split('/')
    let best: { q: number; specificity: number } | undefined
    for (const r of ranges) {
      let specificity: number
      if (r.type === type && r.subtype === subtype) specificity = 3
      else if (r.type === type && r.subtype === '*') specificity = 2
      else if (r.type === '*' && r.subtype === '*') specificity = 1
      else continue
      if (!best || specificity > best.specificity) best = { q: r.q, specificity }
    }
    if (best && best.q > 0) scored.push({ offer, q: best.q, index })
  })
  scored.sort((a, b) => b.q - a.q || a.index - b.index)
  return scored.map((s) => s.offer)
}

export function bestOffer(header: string | undefined, offers: readonly string[]): string | undefined {
  return acceptableOffers(header, offers)[0]
}

/** Whether a successful JSON response may be sent (pecan's check; else 406). */
export function acceptsJson(header: string | undefined): boolean {
  if (header === undefined || header === '' || header === '*/*') return true
  return bestOffer(header, ['application/json']) !== undefined
}

/**
 * Whether a client asks for HTML rather than JSON (a browser: `text/html,…,*\/*;q=0.8`). A
 * missing Accept, `*\/*` or a tie go to JSON, the first offer.
 */
export function prefersHtml(header: string | undefined): boolean {
  if (header === undefined) return false
  return bestOffer(header, ['application/json', 'text/html']) === 'text/html'
}

/** werkzeug `parse_options_header(...)[0]`: the lowercased mime type without parameters. */
export function mimeType(contentType: string | undefined): string {
  if (!contentType) return ''
  return contentType.split(';')[0].trim().toLowerCase()
}
