/**
 * A small OpenStack Swift client for the swift drivers: authentication (v1 tempauth/swauth,
 * v3 Keystone password with a project scope, or a pre-authenticated URL and token), a token
 * fetched once and refreshed on 401, container and object calls, full listings with markers,
 * and the `bulk-delete` middleware upstream's drivers rely on. Keys and tokens go only into
 * request headers; errors name the container and object, never a credential.
 */
import { readFileSync } from 'node:fs'
import { keystonePasswordAuthBody } from '../compat/keystone-password-auth.ts'
import {
  encodeKeyPath,
  encodeRfc3986,
  HttpClient,
  type HttpOrigin,
  type HttpResponse,
  ObjectStoreRequestError,
  parseOrigin,
} from './http-client.ts'

/** `[storage]`/`[incoming]` swift_* options, upstream's names and defaults (gnocchi/storage/swift.py). */
export interface SwiftOptions {
  /** `swift_auth_version`: `1` (default) or `3`. */
  readonly authVersion: string
  /** `swift_authurl` (default `http://localhost:8080/auth/v1.0`). */
  readonly authUrl: string
  readonly user: string
  readonly key: string
  readonly projectName: string | undefined
  readonly userDomainName: string
  readonly projectDomainName: string
  /** `swift_url`: storage URL to use instead of the one auth returns. */
  readonly preauthUrl: string | undefined
  readonly preauthToken: string | undefined
  readonly region: string | undefined
  readonly endpointType: string
  readonly serviceType: string
  readonly authInsecure: boolean
  /** `swift_cacert`: path of a PEM CA bundle for https. */
  readonly cacert: string | undefined
  /** `swift_container_prefix` (default `gnocchi`). */
  readonly containerPrefix: string
  /** `swift_timeout` in ms (default 300 s). */
  readonly timeoutMs: number
}

interface Session {
  readonly url: string
  /** `url` parsed once, not per request. */
  readonly origin: HttpOrigin
  readonly token: string
  /** When to fetch a new token (Keystone: before `expires_at`); undefined: on a 401 only. */
  readonly renewAtMs?: number
}

interface Authenticated {
  readonly url: string
  readonly token: string
  readonly renewAtMs?: number
}

function session(url: string, token: string, renewAtMs?: number): Session {
  const trimmed = url.replace(/\/$/, '')
  return {
    url: trimmed,
    origin: parseOrigin(trimmed),
    token,
    ...(renewAtMs !== undefined ? { renewAtMs } : {}),
  }
}

export interface SwiftListing {
  readonly names: string[]
  /** `subdir` entries of a delimited listing. */
  readonly subdirs: string[]
}

/** Requests in flight per client (upstream uses one connection per driver, sequentially). */
const MAX_CONNECTIONS = 32
/** Names per bulk-delete request (the middleware's default max_deletes_per_request). */
const BULK_DELETE_BATCH = 10_000
const LIST_LIMIT = 10_000

export class SwiftClient {
  readonly #o: SwiftOptions
  readonly #http: HttpClient
  #auth: Promise<Session> | undefined
  #authentications = 0

  constructor(options: SwiftOptions, maxConnections = MAX_CONNECTIONS) {
    this.#o = options
    this.#http = new HttpClient({
      maxConnections,
      timeoutMs: options.timeoutMs > 0 ? options.timeoutMs : 300_000,
      ...(options.cacert !== undefined ? { ca: readFileSync(options.cacert) } : {}),
      insecure: options.authInsecure,
    })
  }

  /** Tokens obtained so far (the first, then every renewal). */
  get authentications(): number {
    return this.#authentications
  }

  get maxConnections(): number {
    return MAX_CONNECTIONS
  }

  /** Authenticates now (startup check: a wrong URL or key fails here with a clear message). */
  async authenticate(): Promise<void> {
    await this.#session()
  }

  /** Replaces the session's token (tests: a token the server no longer knows, as after expiry). */
  async replaceTokenForTests(token: string): Promise<void> {
    const { url, origin } = await this.#session()
    this.#auth = Promise.resolve({ url, origin, token })
  }

  async putContainer(container: string): Promise<void> {
    const res = await this.#call('PUT', container)
    if (res.status !== 201 && res.status !== 202 && res.status !== 204)
      throw this.#error('PUT', container, res)
  }

  /** Deletes an empty container; false when it does not exist. */
  async deleteContainer(container: string): Promise<boolean> {
    const res = await this.#call('DELETE', container)
    if (res.status === 404) return false
    if (res.status !== 204) throw this.#error('DELETE', container, res)
    return true
  }

  /** False when the container does not exist (nothing written). */
  async putObject(container: string, object: string, body: Uint8Array): Promise<boolean> {
    const res = await this.#call('PUT', `${container}/${object}`, '', body)
    if (res.status === 404) return false
    if (res.status !== 201) throw this.#error('PUT', `${container}/${object}`, res)
    return true
  }

  async getObject(container: string, object: string): Promise<Buffer | undefined> {
    const res = await this.#call('GET', `${container}/${object}`)
    if (res.status === 404) return undefined
    if (res.status !== 200) throw this.#error('GET', `${container}/${object}`, res)
    return res.body
  }

  async deleteObject(container: string, object: string): Promise<void> {
    const res = await this.#call('DELETE', `${container}/${object}`)
    if (res.status !== 204 && res.status !== 404) throw this.#error('DELETE', `${container}/${object}`, res)
  }

  /** The whole listing (pages of 10 000, by marker); undefined when the container does not exist. */
  async list(
    container: string,
    options: { prefix?: string; delimiter?: string; limit?: number } = {},
  ): Promise<SwiftListing | undefined> {
    const names: string[] = []
    const subdirs: string[] = []
    const limit = options.limit ?? LIST_LIMIT
    let marker: string | undefined
    for (;;) {
      const q = [`format=json`, `limit=${Math.min(limit - names.length - subdirs.length, LIST_LIMIT)}`]
      if (options.prefix !== undefined) q.push(`prefix=${encodeRfc3986(options.prefix)}`)
      if (options.delimiter !== undefined) q.push(`delimiter=${encodeRfc3986(options.delimiter)}`)
      if (marker !== undefined) q.push(`marker=${encodeRfc3986(marker)}`)
      const res = await this.#call('GET', container, q.join('&'))
      if (res.status === 404) return undefined
      if (res.status !== 200 && res.status !== 204) throw this.#error('GET', container, res)
      const page =
        res.status === 204
          ? []
          : (JSON.parse(res.body.toString('utf8')) as Array<{ name?: string; subdir?: string }>)
      for (const entry of page) {
        if (entry.subdir !== undefined) subdirs.push(entry.subdir)
        else if (entry.name !== undefined) names.push(entry.name)
      }
      const last = page[page.length - 1]
      if (page.length < LIST_LIMIT || names.length + subdirs.length >= limit || last === undefined) break
      marker = last.name ?? last.subdir
    }
    return { names, subdirs }
  }

  /** The `bulk-delete` middleware, by the 10 000 (upstream's `bulk_delete`); missing objects are fine. */
  async bulkDelete(container: string, objects: readonly string[]): Promise<void> {
    for (let at = 0; at < objects.length; at += BULK_DELETE_BATCH) {
      const chunk = objects.slice(at, at + BULK_DELETE_BATCH)
      const body = Buffer.from(
        chunk.map((o) => `/${encodeRfc3986(container)}/${encodeKeyPath(o)}\n`).join(''),
      )
      const res = await this.#call('POST', '', 'bulk-delete', body, {
        accept: 'application/json',
        'content-type': 'text/plain',
      })
      if (res.status !== 200) {
        throw new ObjectStoreRequestError(
          `Swift bulk-delete in ${container}: HTTP ${res.status} (is the bulk middleware in the proxy pipeline?)`,
          res.status,
        )
      }
      const result = JSON.parse(res.body.toString('utf8')) as {
        Errors?: unknown[]
        'Response Status'?: string
      }
      if ((result.Errors?.length ?? 0) > 0) {
        throw new ObjectStoreRequestError(
          `Swift bulk-delete in ${container}: ${result['Response Status']} (${JSON.stringify(result.Errors?.slice(0, 3))})`,
          500,
        )
      }
    }
  }

  close(): void {
    this.#http.close()
  }

  async #call(
    method: string,
    path: string,
    query = '',
    body?: Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const session = await this.#session()
      const target = `${session.origin.basePath}${path ? `/${encodeKeyPath(path)}` : ''}`
      const res = await this.#http.request({
        method,
        origin: session.origin,
        path: query ? `${target}?${query}` : target,
        headers: { ...headers, 'x-auth-token': session.token },
        ...(body !== undefined ? { body } : {}),
        what: `Swift ${method} ${path || '(account)'}`,
      })
      // An expired token: authenticate again, once (a preauthenticated token cannot be renewed).
      if (res.status !== 401 || attempt > 0 || this.#o.preauthToken) return res
      this.#auth = undefined
    }
  }

  async #session(): Promise<Session> {
    const held = this.#auth
    if (held) {
      const current = await held
      // A Keystone token is renewed before it expires (a 401 would cost a failed request,
      // and a request body sent twice); v1 tokens carry no expiry and are renewed on a 401.
      if (current.renewAtMs === undefined || Date.now() < current.renewAtMs) return current
      if (this.#auth === held) this.#auth = undefined // the first to notice renews, the others wait for it
    }
    if (!this.#auth) {
      const pending = this.#authenticate()
      this.#auth = pending
      pending.catch(() => {
        if (this.#auth === pending) this.#auth = undefined
      })
    }
    return this.#auth
  }

  async #authenticate(): Promise<Session> {
    const o = this.#o
    if (o.preauthToken && o.preauthUrl) return session(o.preauthUrl, o.preauthToken)
    const got = o.authVersion === '3' || o.authVersion === '3.0' ? await this.#authV3() : await this.#authV1()
    this.#authentications++
    return session(o.preauthUrl ?? got.url, got.token, got.renewAtMs)
  }

  async #authV1(): Promise<Authenticated> {
    const o = this.#o
    if (o.authVersion !== '1' && o.authVersion !== '1.0') {
      throw new Error(`[storage] swift_auth_version ${o.authVersion} is not supported (1 or 3)`)
    }
    const authUrl = new URL(o.authUrl)
    const res = await this.#http.request({
      method: 'GET',
      origin: parseOrigin(authUrl),
      path: `${authUrl.pathname}${authUrl.search}`,
      headers: { 'x-auth-user': o.user, 'x-auth-key': o.key },
      what: `Swift auth v1 ${o.authUrl}`,
    })
    const url = res.headers['x-storage-url']
    const token = res.headers['x-auth-token']
    if (res.status >= 300 || typeof url !== 'string' || typeof token !== 'string') {
      throw new ObjectStoreRequestError(
        `Swift auth v1 at ${o.authUrl} for user ${o.user}: HTTP ${res.status} (check swift_authurl, swift_user, swift_key)`,
        res.status,
      )
    }
    return { url, token }
  }

  async #authV3(): Promise<Authenticated> {
    const o = this.#o
    const base = o.authUrl.replace(/\/$/, '')
    const tokensUrl = `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`
    const body = keystonePasswordAuthBody({
      user: o.user,
      password: o.key,
      userDomain: { name: o.userDomainName },
      scope: { project: { name: o.projectName, domain: { name: o.projectDomainName } } },
    })
    const tokens = new URL(tokensUrl)
    const res = await this.#http.request({
      method: 'POST',
      origin: parseOrigin(tokens),
      path: `${tokens.pathname}${tokens.search}`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
      what: `Keystone auth ${tokensUrl}`,
    })
    const token = res.headers['x-subject-token']
    if (res.status !== 201 || typeof token !== 'string') {
      throw new ObjectStoreRequestError(
        `Keystone auth at ${tokensUrl} for user ${o.user} in project ${o.projectName}: HTTP ${res.status} (check swift_authurl, swift_user, swift_key, swift_project_name)`,
        res.status,
      )
    }
    const reply = JSON.parse(res.body.toString('utf8')) as {
      token?: {
        expires_at?: string
        catalog?: Array<{
          type: string
          endpoints: Array<{ interface: string; region?: string; region_id?: string; url: string }>
        }>
      }
    }
    const catalog = reply.token?.catalog
    const iface = o.endpointType.replace(/URL$/, '')
    const endpoint = catalog
      ?.find((s) => s.type === o.serviceType)
      ?.endpoints.find(
        (e) => e.interface === iface && (o.region === undefined || (e.region_id ?? e.region) === o.region),
      )
    if (!endpoint && !o.preauthUrl) {
      throw new Error(
        `Keystone catalog has no ${o.serviceType} ${iface} endpoint${o.region ? ` in region ${o.region}` : ''} (swift_service_type, swift_endpoint_type, swift_region)`,
      )
    }
    // Renew at 3/4 of the token's life (Keystone's default life is an hour; tests use 20 s).
    const now = Date.now()
    const expires = Date.parse(reply.token?.expires_at ?? '')
    const renewAtMs = Number.isFinite(expires) ? now + Math.max(0, expires - now) * 0.75 : undefined
    return { url: endpoint?.url ?? '', token, ...(renewAtMs !== undefined ? { renewAtMs } : {}) }
  }

  #error(method: string, path: string, res: HttpResponse): ObjectStoreRequestError {
    const hint =
      res.status === 401 || res.status === 403 ? ' (check swift_user / swift_key and its roles)' : ''
    return new ObjectStoreRequestError(`Swift ${method} ${path}: HTTP ${res.status}${hint}`, res.status)
  }
}
