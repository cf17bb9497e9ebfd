/**
 * keystonemiddleware's `auth_token` in front of `/v1` (upstream's api-paste pipeline): the
 * `X-Auth-Token` (or `X-Storage-Token`) of each request is validated against Keystone with
 * our service token, results are reused for `token_cache_time`, and an expired token is
 * refused on every use. An optional `X-Service-Token` must carry one of
 * `service_token_roles` (when `service_token_roles_required`) and then lets an expired user
 * token through (`allow_expired`), as keystonemiddleware does for service-to-service calls.
 *
 * Outcomes: `confirmed` (the identity), `invalid` (only with `delay_auth_decision`: the
 * handlers answer 401 themselves when they need an identity), `reject` (401 with
 * `WWW-Authenticate`). Keystone unreachable: a 503 with Retry-After (with
 * `delay_auth_decision`, the token counts as invalid, as keystonemiddleware does).
 */

import { AuthServiceUnavailableError } from '../../domain/request-errors.ts'
import type { Logger } from '../../log/logger.ts'
import {
  InvalidTokenError,
  KeystoneClient,
  KeystoneUnavailableError,
  parseToken,
  type ServiceToken,
  ServiceTokenRejectedError,
  type TokenBody,
  unversionedUrl,
} from './keystone-client.ts'
import { MemcachedTokenStore, tokenCacheKey } from './memcached.ts'
import type { KeystoneAuthConfig } from './options.ts'
import { TokenCache } from './token-cache.ts'

/** What a validated token says about its bearer (keystonemiddleware's `X-*` headers). */
export interface KeystoneIdentity {
  readonly userId: string
  readonly userDomainId: string | null
  /** Project-scoped tokens. */
  readonly projectId: string | null
  readonly projectDomainId: string | null
  /** Domain-scoped tokens (`X-Domain-Id`). */
  readonly domainId: string | null
  /** System-scoped tokens (`OpenStack-System-Scope`: `all`). */
  readonly systemScope: string | null
  readonly roles: readonly string[]
  readonly expiresAtMs: number
}

export type KeystoneOutcome =
  | { readonly kind: 'confirmed'; readonly identity: KeystoneIdentity; readonly service?: KeystoneIdentity }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'reject' }

export const KEYSTONE_RETRY_AFTER_S = 5
/** Longer tokens are refused without asking Keystone (Fernet tokens are ~200 bytes, JWS ~1 KiB). */
const MAX_TOKEN_LENGTH = 16 * 1024
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000
/**
 * With memcached, how long a process reuses a validation on its own before asking memcached
 * again: revocation then bites within `token_cache_time` + this on every worker, as with
 * keystonemiddleware (which asks memcached on every request), at a fraction of the cost.
 */
const LOCAL_TTL_WITH_MEMCACHED_S = 10

/** 503 with Retry-After (error catalog). */
export function keystoneUnavailable(): AuthServiceUnavailableError {
  return new AuthServiceUnavailableError()
}

/** The identity of a v3 token body; undefined when it has no user or no expiry. */
export function identityOf(token: TokenBody): KeystoneIdentity | undefined {
  const userId = token.user?.id
  const expiresAtMs = token.expires_at ? Date.parse(token.expires_at) : Number.NaN
  if (typeof userId !== 'string' || userId === '' || !Number.isFinite(expiresAtMs)) return undefined
  const projectId = typeof token.project?.id === 'string' ? token.project.id : null
  const domainId = projectId === null && typeof token.domain?.id === 'string' ? token.domain.id : null
  const system = token.system && token.system.all === true ? 'all' : null
  return {
    userId,
    userDomainId: token.user?.domain?.id ?? null,
    projectId,
    projectDomainId: projectId === null ? null : (token.project?.domain?.id ?? null),
    domainId,
    systemScope: projectId === null && domainId === null ? system : null,
    roles: (token.roles ?? []).map((r) => r.name).filter((n): n is string => typeof n === 'string'),
    expiresAtMs,
  }
}

export class KeystoneAuth {
  /** `WWW-Authenticate` of every 401 in keystone mode. */
  readonly wwwAuthenticate: string
  readonly #config: KeystoneAuthConfig
  readonly #client: KeystoneClient
  readonly #log: Logger
  readonly #cache: TokenCache<KeystoneIdentity>
  readonly #serviceRoles: ReadonlySet<string>
  /** keystonemiddleware's memcached cache, shared by workers, hosts and upstream's processes. */
  readonly #shared: MemcachedTokenStore | undefined
  #lastMemcachedLogMs = Number.NEGATIVE_INFINITY
  #service: { token: ServiceToken; renewAtMs: number } | undefined
  #serviceFetch: Promise<ServiceToken> | undefined
  #lastUnavailableLogMs = Number.NEGATIVE_INFINITY
  /** One outcome object per cached identity, not one per request. */
  readonly #confirmed = new WeakMap<KeystoneIdentity, KeystoneOutcome>()

  constructor(config: KeystoneAuthConfig, log: Logger, client = new KeystoneClient(config)) {
    this.#config = config
    this.#client = client
    this.#log = log
    this.#shared = sharedStore(config, log, (server, reason) => {
      const now = Date.now()
      if (now - this.#lastMemcachedLogMs < UNAVAILABLE_LOG_INTERVAL_MS) return
      this.#lastMemcachedLogMs = now
      log.warn('memcached unavailable: validating tokens with Keystone', { server, reason })
    })
    const localS = this.#shared
      ? Math.min(config.tokenCacheTime, LOCAL_TTL_WITH_MEMCACHED_S)
      : config.tokenCacheTime
    this.#cache = new TokenCache({ ttlMs: localS * 1000, maxEntries: config.tokenCacheSize })
    this.#serviceRoles = new Set(config.serviceTokenRoles.map((r) => r.toLowerCase()))
    this.wwwAuthenticate = `Keystone uri="${config.wwwAuthenticateUri ?? unversionedUrl(config.authUrl)}"`
  }

  /**
   * The outcome of a request whose user token is cached and unexpired and that carries no
   * service token, without a promise (the warm path); undefined: ask `authenticate`.
   */
  authenticateCached(
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): KeystoneOutcome | undefined {
    if (headers['x-service-token'] !== undefined) return undefined
    const token = tokenHeader(headers['x-auth-token']) ?? tokenHeader(headers['x-storage-token'])
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return undefined
    const identity = this.#cache.peek(token)
    if (identity === undefined || identity.expiresAtMs <= Date.now()) return undefined
    let outcome = this.#confirmed.get(identity)
    if (outcome === undefined) {
      outcome = { kind: 'confirmed', identity }
      this.#confirmed.set(identity, outcome)
    }
    return outcome
  }

  async authenticate(
    headers: Readonly<Record<string, string | string[] | undefined>>,
  ): Promise<KeystoneOutcome> {
    const userToken = tokenHeader(headers['x-auth-token']) ?? tokenHeader(headers['x-storage-token'])
    const serviceToken = tokenHeader(headers['x-service-token'])
    try {
      let serviceValid = true
      let allowExpired = false
      let service: KeystoneIdentity | undefined
      if (serviceToken !== undefined) {
        service = await this.#identity(serviceToken, false)
        const passed = service?.roles.some((r) => this.#serviceRoles.has(r.toLowerCase())) === true
        serviceValid = service !== undefined && (passed || !this.#config.serviceTokenRolesRequired)
        allowExpired = passed
      }
      const user = userToken === undefined ? undefined : await this.#identity(userToken, allowExpired)
      if (user === undefined || !serviceValid)
        return { kind: this.#config.delayAuthDecision ? 'invalid' : 'reject' }
      return { kind: 'confirmed', identity: user, service: serviceValid ? service : undefined }
    } catch (e) {
      if (!(e instanceof KeystoneUnavailableError)) throw e
      this.#logUnavailable(e)
      if (this.#config.delayAuthDecision) return { kind: 'invalid' }
      throw keystoneUnavailable()
    }
  }

  /** The token's identity; undefined when Keystone does not know it or it has expired. */
  async #identity(token: string, allowExpired: boolean): Promise<KeystoneIdentity | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined
    const pending = this.#cache.get(token, () => this.#validate(token, allowExpired))
    if (pending === undefined) throw new KeystoneUnavailableError('too many token validations in flight')
    try {
      const identity = await pending
      return allowExpired || identity.expiresAtMs > Date.now() ? identity : undefined
    } catch (e) {
      if (e instanceof InvalidTokenError) return undefined
      throw e
    }
  }

  async #validate(token: string, allowExpired: boolean): Promise<KeystoneIdentity> {
    const key = this.#shared ? tokenCacheKey(token) : ''
    if (this.#shared) {
      const value = await this.#shared.get(key)
      const shared = value && parseToken(value)
      const identity = shared ? identityOf(shared) : undefined
      if (identity) return identity
    }
    let service = await this.#serviceToken(undefined)
    let body: TokenBody
    try {
      body = await this.#client.validate(service, token, allowExpired)
    } catch (e) {
      if (!(e instanceof ServiceTokenRejectedError)) throw e
      service = await this.#serviceToken(service)
      body = await this.#client.validate(service, token, allowExpired)
    }
    const identity = identityOf(body)
    if (identity === undefined) throw new InvalidTokenError('token without user or expiry')
    // Awaited, as keystonemiddleware does: once a request with this token is answered, every
    // worker and host finds the validation (a miss costs one more local round trip).
    if (this.#shared && this.#config.tokenCacheTime > 0)
      await this.#shared.set(key, Buffer.from(JSON.stringify({ token: body })), this.#config.tokenCacheTime)
    return identity
  }

  /**
   * Our service token, obtained once and renewed before it expires (half its life, at most
   * 2 min early), one authentication at a time. `rejected`: Keystone refused that token, so
   * renew it unless another request already did.
   */
  #serviceToken(rejected: ServiceToken | undefined): Promise<ServiceToken> {
    const current = this.#service
    if (current && current.token !== rejected && (rejected !== undefined || Date.now() < current.renewAtMs)) {
      return Promise.resolve(current.token)
    }
    if (this.#serviceFetch === undefined) {
      const obtainedMs = Date.now()
      this.#serviceFetch = this.#client
        .authenticate()
        .then((token) => {
          const early = Math.min(120_000, Math.max(0, token.expiresAtMs - obtainedMs) / 2)
          this.#service = { token, renewAtMs: token.expiresAtMs - early }
          return token
        })
        .finally(() => {
          this.#serviceFetch = undefined
        })
    }
    return this.#serviceFetch
  }

  #logUnavailable(e: Error): void {
    const now = Date.now()
    if (now - this.#lastUnavailableLogMs < UNAVAILABLE_LOG_INTERVAL_MS) return
    this.#lastUnavailableLogMs = now
    this.#log.error('Unable to validate token: Keystone unavailable', { reason: e.message })
  }
}

/**
 * The memcached store of `memcached_servers`, when usable: keystonemiddleware's MAC and
 * ENCRYPT strategies are not implemented, so with one of them validations stay in the
 * process (said once at startup) rather than being read unauthenticated.
 */
function sharedStore(
  config: KeystoneAuthConfig,
  log: Logger,
  onDead: (server: string, reason: string) => void,
): MemcachedTokenStore | undefined {
  const servers = config.memcachedServers
  if (servers.length === 0 || config.tokenCacheTime <= 0) return undefined
  if (config.memcacheSecurityStrategy.toLowerCase() !== 'none') {
    log.warn('memcache_security_strategy is not supported: token validations are cached in each process', {
      memcacheSecurityStrategy: config.memcacheSecurityStrategy,
    })
    return undefined
  }
  log.info('token validations shared on memcached', { servers })
  return new MemcachedTokenStore({
    servers,
    socketTimeoutMs: config.memcacheSocketTimeoutS * 1000,
    deadRetryMs: config.memcacheDeadRetryS * 1000,
    maxConnections: config.memcachePoolMaxsize,
    unusedTimeoutMs: config.memcachePoolUnusedTimeoutS * 1000,
    connGetTimeoutMs: config.memcachePoolConnGetTimeoutS * 1000,
    onDead,
  })
}

function tokenHeader(v: string | string[] | undefined): string | undefined {
  const s = (Array.isArray(v) ? v[0] : v)?.trim()
  return s === undefined || s === '' ? undefined : s
}
