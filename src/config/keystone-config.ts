import { dirname, isAbsolute, resolve } from 'node:path'
import type { KeystoneAuthConfig } from '../api/keystone/options.ts'
import type { Options } from './ini.ts'

export type { KeystoneAuthConfig }

export interface OsloPolicyConfig {
  /** Absolute path; a missing file means upstream's defaults (as oslo.policy). */
  readonly policyFile: string
  readonly policyDirs: readonly string[]
}

/** `[keystone_authtoken]`; throws on what keystonemiddleware would refuse to start with. */
export function keystoneAuthConfig(o: Options): KeystoneAuthConfig {
  const s = 'keystone_authtoken'
  const authType = o.str(s, 'auth_type', o.str(s, 'auth_plugin', 'password'))
  if (authType !== 'password' && authType !== 'v3password') {
    throw new Error(`[${s}] auth_type ${authType} is not supported (password)`)
  }
  const authUrl = o.raw(s, 'auth_url')
  const username = o.raw(s, 'username')
  const password = o.raw(s, 'password')
  if (!authUrl || !username || password === undefined) {
    throw new Error(`[${s}] auth_url, username and password are required with [api] auth_mode = keystone`)
  }
  const opt = (name: string) => o.raw(s, name) || undefined
  return {
    wwwAuthenticateUri: opt('www_authenticate_uri') ?? opt('auth_uri'),
    authUrl,
    authType,
    username,
    password,
    projectName: opt('project_name') ?? opt('tenant_name'),
    projectId: opt('project_id') ?? opt('tenant_id'),
    userDomainName: opt('user_domain_name'),
    userDomainId: opt('user_domain_id'),
    projectDomainName: opt('project_domain_name'),
    projectDomainId: opt('project_domain_id'),
    regionName: opt('region_name'),
    interface: o.str(s, 'interface', 'internal'),
    serviceTokenRoles: o.list(s, 'service_token_roles', ['service']),
    serviceTokenRolesRequired: o.bool(s, 'service_token_roles_required', true),
    tokenCacheTime: o.int(s, 'token_cache_time', 300),
    tokenCacheSize: o.int(s, 'token_cache_size', 10_000, 0),
    cafile: opt('cafile'),
    insecure: o.bool(s, 'insecure', false),
    delayAuthDecision: o.bool(s, 'delay_auth_decision', false),
    httpTimeoutS: o.float(s, 'http_connect_timeout', 10),
    memcachedServers: o.list(s, 'memcached_servers', []),
    memcacheSecurityStrategy: o.str(s, 'memcache_security_strategy', 'None'),
    memcacheSocketTimeoutS: o.float(s, 'memcache_pool_socket_timeout', 3),
    memcacheDeadRetryS: o.float(s, 'memcache_pool_dead_retry', 300),
    memcachePoolMaxsize: o.int(s, 'memcache_pool_maxsize', 10, 1),
    memcachePoolUnusedTimeoutS: o.float(s, 'memcache_pool_unused_timeout', 60),
    memcachePoolConnGetTimeoutS: o.float(s, 'memcache_pool_conn_get_timeout', 10),
  }
}

/** `[oslo_policy]`: relative paths are looked up beside the first config file, as oslo.config does. */
export function osloPolicyConfig(o: Options, configFiles: readonly string[], cwd: string): OsloPolicyConfig {
  const base = configFiles.length > 0 ? dirname(resolve(cwd, configFiles[0])) : cwd
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p))
  return {
    policyFile: abs(o.str('oslo_policy', 'policy_file', 'policy.yaml')),
    policyDirs: o.list('oslo_policy', 'policy_dirs', ['policy.d']).map(abs),
  }
}
