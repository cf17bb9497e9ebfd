/**
 * The calls gnocchi-api makes to Keystone (identity API v3): the service user's password
 * authentication and `GET /v3/auth/tokens` validation. Transport failures, timeouts and
 * answers we cannot use are `KeystoneUnavailableError` (the API answers 503), a token Keystone
 * does not know (404) is `InvalidTokenError` (401). No token or password is ever put in an
 * error message.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { keystonePasswordAuthBody } from '../../compat/keystone-password-auth.ts'
import type { KeystoneAuthConfig } from './options.ts'

export class KeystoneUnavailableError extends Error {
  override name = 'KeystoneUnavailableError'
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError'
}

/** The `token` object of Keystone's v3 answers (what we read of it). */
export interface TokenBody {
  readonly expires_at?: string
  readonly user?: { readonly id?: string; readonly name?: string; readonly domain?: { readonly id?: string } }
  readonly project?: { readonly id?: string; readonly domain?: { readonly id?: string } }
  readonly domain?: { readonly id?: string }
  readonly system?: Readonly<Record<string, unknown>>
  readonly roles?: readonly { readonly name?: string }[]
  readonly catalog?: readonly CatalogEntry[]
}

interface CatalogEntry {
  readonly type?: string
  readonly endpoints?: readonly {
    readonly interface?: string
    readonly region_id?: string
    readonly url?: string
  }[]
}

export interface ServiceToken {
  readonly token: string
  readonly expiresAtMs: number
  /** Base URL (ending with `/v3`) of the identity endpoint validations go to. */
  readonly identityUrl: string
}

interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

/** Keystone answers past this size are refused (a token with its catalog is a few KiB). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024

/** `…:5000`, `…:5000/`, `…:5000/v3/` → `…:5000/v3`. */
export function v3Url(url: string): string {
  const trimmed = url.replace(/\/+$/, '')
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed.replace(/\/v2\.0$/, '')}/v3`
}

/** keystonemiddleware's default `www_authenticate_uri`: the auth URL without its version. */
export function unversionedUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/(v3|v2\.0)$/, '')
}

export class KeystoneClient {
  readonly #config: KeystoneAuthConfig
  readonly #ca: Buffer | undefined

  constructor(config: KeystoneAuthConfig) {
    this.#config = config
    this.#ca = config.cafile ? readFileSync(config.cafile) : undefined
  }

  /** Password authentication of the service user, scoped as configured. */
  async authenticate(): Promise<ServiceToken> {
    const c = this.#config
    const domain = (id: string | undefined, name: string | undefined) =>
      id ? { id } : name ? { name } : { id: 'default' }
    const scope = c.projectId
      ? { project: { id: c.projectId } }
      : c.projectName
        ? { project: { name: c.projectName, domain: domain(c.projectDomainId, c.projectDomainName) } }
        : undefined
    const body = keystonePasswordAuthBody({
      user: c.username,
      password: c.password,
      userDomain: domain(c.userDomainId, c.userDomainName),
      scope,
    })
    const authUrl = v3Url(c.authUrl)
    const answer = await this.#request(
      'POST',
      `${authUrl}/auth/tokens`,
      { 'content-type': 'application/json' },
      body,
    )
    if (answer.status !== 201 && answer.status !== 200) {
      // 401 here means the service user's credentials are wrong: an operator problem, not the client's.
      throw new KeystoneUnavailableError(
        `Keystone refused the service user's authentication (${answer.status})`,
      )
    }
    const token = headerString(answer.headers['x-subject-token'])
    const data = parseToken(answer.body)
    const expiresAtMs = data?.expires_at ? Date.parse(data.expires_at) : Number.NaN
    if (!token || !data || !Number.isFinite(expiresAtMs)) {
      throw new KeystoneUnavailableError(
        'Keystone answered the service authentication without a usable token',
      )
    }
    return { token, expiresAtMs, identityUrl: this.#identityUrl(data.catalog) ?? authUrl }
  }

  /** `GET /v3/auth/tokens`: the token's data; InvalidTokenError when Keystone does not know it. */
  async validate(service: ServiceToken, subject: string, allowExpired: boolean): Promise<TokenBody> {
    const query = allowExpired ? '?nocatalog&allow_expired=1' : '?nocatalog'
    const answer = await this.#request('GET', `${service.identityUrl}/auth/tokens${query}`, {
      'x-auth-token': service.token,
      'x-subject-token': subject,
    })
    if (answer.status === 404) throw new InvalidTokenError('Keystone does not know this token')
    if (answer.status === 401) throw new ServiceTokenRejectedError('Keystone refused the service token')
    if (answer.status !== 200)
      throw new KeystoneUnavailableError(`Keystone answered ${answer.status} to a validation`)
    const data = parseToken(answer.body)
    if (!data) throw new KeystoneUnavailableError('Keystone answered a validation with an unreadable body')
    return data
  }

  /** The catalog's identity endpoint for `interface` (and `region_name`), as a v3 URL. */
  #identityUrl(catalog: readonly CatalogEntry[] | undefined): string | undefined {
    const c = this.#config
    for (const entry of catalog ?? []) {
      if (entry.type !== 'identity') continue
      for (const e of entry.endpoints ?? []) {
        const iface = c.interface.replace(/URL$/, '')
        if (e.interface !== iface || !e.url) continue
        if (c.regionName && e.region_id !== c.regionName) continue
        return v3Url(e.url)
      }
    }
    return undefined
  }

  #request(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    const c = this.#config
    let u: URL
    try {
      u = new URL(url)
    } catch {
      return Promise.reject(new KeystoneUnavailableError('the Keystone URL is not a valid URL'))
    }
    const lib = u.protocol === 'https:' ? https : http
    return new Promise((resolve, reject) => {
      let req: http.ClientRequest
      try {
        req = lib.request(u, {
          method,
          headers: { accept: 'application/json', 'user-agent': 'gnocchi-ts', ...headers },
          timeout: c.httpTimeoutS * 1000,
          ...(u.protocol === 'https:' ? { ca: this.#ca, rejectUnauthorized: !c.insecure } : {}),
        })
      } catch (e) {
        // A header value Node refuses (a token with characters no header may carry).
        if (e instanceof TypeError) reject(new InvalidTokenError('token is not a valid header value'))
        else reject(new KeystoneUnavailableError('could not send a request to Keystone'))
        return
      }
      req.on('timeout', () =>
        req.destroy(new KeystoneUnavailableError(`Keystone did not answer within ${c.httpTimeoutS} s`)),
      )
      req.on('error', (e) =>
        reject(
          e instanceof KeystoneUnavailableError
            ? e
            : new KeystoneUnavailableError(`Keystone unreachable: ${errorCode(e)}`),
        ),
      )
      req.on('response', (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_ANSWER_BYTES) req.destroy(new KeystoneUnavailableError('Keystone answer too large'))
          else chunks.push(chunk)
        })
        res.on('error', () => reject(new KeystoneUnavailableError('Keystone answer interrupted')))
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        )
      })
      req.end(body)
    })
  }
}

/** Our service token expired or was revoked under us: get a new one and retry once. */
export class ServiceTokenRejectedError extends KeystoneUnavailableError {
  override name = 'ServiceTokenRejectedError'
}

/** The `token` of a validation's JSON body (Keystone's, or keystonemiddleware's cache value). */
export function parseToken(body: Buffer): TokenBody | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { token?: unknown }
    return parsed && typeof parsed.token === 'object' && parsed.token !== null
      ? (parsed.token as TokenBody)
      : undefined
  } catch {
    return undefined
  }
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** Only the code (ECONNREFUSED…): messages may quote hosts but never anything secret; keep it terse. */
function errorCode(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? e.name
}
