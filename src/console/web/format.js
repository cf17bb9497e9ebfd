// Small formatting helpers shared by the pages.

const UNITS = /** @type {const} */ ([
  ['d', 86400],
  ['h', 3600],
  ['min', 60],
  ['s', 1],
])

/** `86400` → `1d`, `5400` → `1h 30min`. */
export function duration(/** @type {number} */ seconds) {
  if (!Number.isFinite(seconds)) return String(seconds)
  if (seconds < 1) return `${seconds}s`
  /** @type {string[]} */
  const out = []
  let rest = seconds
  for (const [u, n] of UNITS) {
    if (rest >= n) {
      out.push(`${Math.floor(rest / n)}${u}`)
      rest %= n
    }
  }
  return out.join(' ')
}

/** A datetime-local input's value (local time) ↔ ISO 8601. */
export function toLocalInput(/** @type {string | undefined} */ iso) {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function fromLocalInput(/** @type {string} */ value) {
  if (!value) return ''
  const d = new Date(value)
  return Number.isNaN(d.getTime()) ? '' : d.toISOString()
}

/** Relative ranges of the time pickers (`-6h` style, as the API's own relative timestamps). */
export const RANGES = [
  ['15 minutes', 900],
  ['1 hour', 3600],
  ['6 hours', 21600],
  ['24 hours', 86400],
  ['7 days', 604800],
  ['30 days', 2592000],
  ['1 year', 31536000],
]

/** A value for a table cell: JSON for objects, `—` for null. */
export function cell(/** @type {unknown} */ v) {
  if (v === null || v === undefined) return '—'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** RFC 4180 CSV. */
export function csv(/** @type {string[]} */ header, /** @type {unknown[][]} */ rows) {
  const q = (/** @type {unknown} */ v) => {
    const s = v === null || v === undefined ? '' : String(v)
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return `${[header, ...rows].map((r) => r.map(q).join(',')).join('\r\n')}\r\n`
}

/** Offers `text` as a file download (a blob URL: no request leaves the page). */
export function download(/** @type {string} */ name, /** @type {string} */ text, type = 'text/csv') {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** Python's `str(timedelta)` (`"30 days, 0:00:00"`, `"0:00:01.500000"`) → seconds. */
export function timedeltaSeconds(/** @type {string | number} */ v) {
  if (typeof v === 'number') return v
  const m = /^(?:(-?\d+) days?, )?(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(v.trim())
  if (!m) return Number(v)
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4])
}
