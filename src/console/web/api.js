// The console's only way to the server: the public REST API (plus the keystone login helper),
// with the signed-in user's credentials on every request.

/** @typedef {{ mode: 'basic', user: string } | { mode: 'keystone', token: string, user?: string } | { mode: 'remoteuser' }} Session */

const SESSION_KEY = 'gnocchi-console-session'

/** Fired when the server no longer accepts the session's token (it expired or was revoked). */
export const SIGNED_OUT_EVENT = 'gnocchi-signed-out'

/** @returns {Session | undefined} */
export function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY)
    return raw ? /** @type {Session} */ (JSON.parse(raw)) : undefined
  } catch {
    return undefined
  }
}

/** @param {Session | undefined} s */
export function saveSession(s) {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s))
  else sessionStorage.removeItem(SESSION_KEY)
}

/** An answer other than 2xx, with the server's own description. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** @param {Session | undefined} s @returns {Record<string, string>} */
function authHeaders(s) {
  if (!s) return {}
  if (s.mode === 'basic') {
    // The password is ignored in basic mode; the user name travels as `user:` (UTF-8).
    const bytes = new TextEncoder().encode(`${s.user}:`)
    return { authorization: `basic ${btoa(String.fromCharCode(...bytes))}` }
  }
  if (s.mode === 'keystone') return { 'x-auth-token': s.token }
  return {}
}

/** Upstream's error bodies: `{"code", "title", "description"}` where description may be an object. */
async function errorText(/** @type {Response} */ res) {
  const text = await res.text()
  try {
    const body = JSON.parse(text)
    const d = body.description ?? body.error?.message ?? body
    return typeof d === 'string' ? d : JSON.stringify(d)
  } catch {
    return text.trim() || res.statusText
  }
}

/**
 * @param {string} method
 * @param {string} path under the API root (`/v1/…`)
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  return (await apiPage(method, path, body)).data
}

/**
 * The same, with whether the listing has a next page (upstream's `Link: <…>; rel="next"`, sent
 * when a page is full after the server capped `limit` to its `max_limit`).
 * @param {string} method @param {string} path @param {unknown} [body]
 * @returns {Promise<{ data: any, hasNext: boolean }>}
 */
export async function apiPage(method, path, body) {
  const session = loadSession()
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...authHeaders(session) }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`..${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'omit',
  })
  if (res.status === 401 && session?.mode === 'keystone') {
    saveSession(undefined)
    dispatchEvent(new Event(SIGNED_OUT_EVENT))
  }
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}: ${await errorText(res)}`)
  const hasNext = /rel="next"/.test(res.headers.get('link') ?? '')
  if (res.status === 204 || res.status === 202) return { data: undefined, hasNext }
  const text = await res.text()
  return { data: text ? JSON.parse(text) : undefined, hasNext }
}

export const get = (/** @type {string} */ path) => api('GET', path)

/** @param {string} user @param {string} password @param {string} project @param {string} domain */
export async function keystoneLogin(user, password, project, domain) {
  const res = await fetch('./login/keystone', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ user, password, project, domain }),
    credentials: 'omit',
  })
  if (res.status === 401) throw new ApiError(401, 'Keystone refused this user name, password or project.')
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}: ${await errorText(res)}`)
  return /** @type {{ token: string, expires_at: string | null }} */ (await res.json())
}

/** Query string from pairs, repeated keys allowed, empty values left out. */
export function qs(/** @type {Array<[string, string | number | undefined | null]>} */ pairs) {
  const p = new URLSearchParams()
  for (const [k, v] of pairs) if (v !== undefined && v !== null && v !== '') p.append(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}
