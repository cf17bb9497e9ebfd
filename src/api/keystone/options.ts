/**
 * `[keystone_authtoken]` as keystonemiddleware reads it (a section copied from an upstream
 * deployment works unchanged; options we do not need, such as `memcache_pool_maxsize`, are
 * ignored).
 * Parsed by src/config/keystone-config.ts.
 */
export interface KeystoneAuthConfig {
  /** Keystone's public endpoint for clients (`WWW-Authenticate`); `auth_uri` is the deprecated name. */
  readonly wwwAuthenticateUri: string | undefined
  /** Where the service user authenticates (`…:5000` or `…:5000/v3`). */
  readonly authUrl: string
  readonly authType: string
  readonly username: string
  readonly password: string
  readonly projectName: string | undefined
  readonly projectId: string | undefined
  readonly userDomainName: string | undefined
  readonly userDomainId: string | undefined
  readonly projectDomainName: string | undefined
  readonly projectDomainId: string | undefined
  readonly regionName: string | undefined
  /** Catalog interface of the identity endpoint tokens are validated on (default `internal`). */
  readonly interface: string
  readonly serviceTokenRoles: readonly string[]
  readonly serviceTokenRolesRequired: boolean
  /** Seconds a validation is reused (default 300); ≤ 0 disables the cache. */
  readonly tokenCacheTime: number
  /** gnocchi-ts extension: most validations kept (default 10 000). */
  readonly tokenCacheSize: number
  readonly cafile: string | undefined
  readonly insecure: boolean
  readonly delayAuthDecision: boolean
  /** Seconds before a request to Keystone is given up (`http_connect_timeout`, default 10). */
  readonly httpTimeoutS: number
  /** `host:port` of the memcached servers validations are shared on (none: this process only). */
  readonly memcachedServers: readonly string[]
  /** keystonemiddleware's `memcache_security_strategy` (`None`, `MAC`, `ENCRYPT`). */
  readonly memcacheSecurityStrategy: string
  /** `memcache_pool_socket_timeout` (default 3 s) and `memcache_pool_dead_retry` (300 s). */
  readonly memcacheSocketTimeoutS: number
  readonly memcacheDeadRetryS: number
  /**
   * The connection pool of each memcached server: `memcache_pool_maxsize` (default 10),
   * `memcache_pool_unused_timeout` (60 s), `memcache_pool_conn_get_timeout` (10 s).
   */
  readonly memcachePoolMaxsize: number
  readonly memcachePoolUnusedTimeoutS: number
  readonly memcachePoolConnGetTimeoutS: number
}
