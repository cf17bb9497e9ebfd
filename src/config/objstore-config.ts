import type { S3Options } from '../objstore/s3-options.ts'
import type { SwiftOptions } from '../objstore/swift-client.ts'

/** Raw option lookup: `[incoming]` falls back to `[storage]` (upstream's `${storage.<opt>}` defaults). */
type Lookup = (name: string) => string | undefined

function float(section: string, name: string, v: string | undefined, def: number, min = 0): number {
  if (v === undefined) return def
  const n = Number(v)
  if (!Number.isFinite(n) || n < min)
    throw new Error(`[${section}] ${name}: invalid number ${JSON.stringify(v)}`)
  return n
}

function int(section: string, name: string, v: string | undefined, def: number, min: number): number {
  const n = float(section, name, v, def, min)
  if (!Number.isInteger(n)) throw new Error(`[${section}] ${name}: invalid integer ${JSON.stringify(v)}`)
  return n
}

/** `s3_*` options, upstream's defaults (gnocchi/storage/s3.py; AWS_* environment variables as defaults). */
export function readS3Options(section: string, get: Lookup, env: NodeJS.ProcessEnv): S3Options {
  const bucketPrefix = get('s3_bucket_prefix') ?? 'gnocchi'
  // Bucket names are ≤ 63 characters: prefix + '-' + a uuid-sized suffix (upstream's max_length).
  if (bucketPrefix.length > 26) throw new Error(`[${section}] s3_bucket_prefix: at most 26 characters`)
  return {
    endpointUrl: get('s3_endpoint_url') || undefined,
    regionName: get('s3_region_name') ?? (env.AWS_DEFAULT_REGION || undefined),
    accessKeyId: get('s3_access_key_id') ?? env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: get('s3_secret_access_key') ?? env.AWS_SECRET_ACCESS_KEY ?? '',
    bucketPrefix,
    checkConsistencyTimeoutMs: Math.round(
      float(section, 's3_check_consistency_timeout', get('s3_check_consistency_timeout'), 60) * 1000,
    ),
    maxPoolConnections: int(section, 's3_max_pool_connections', get('s3_max_pool_connections'), 50, 1),
  }
}

/** `swift_*` options, upstream's defaults (gnocchi/storage/swift.py). */
export function readSwiftOptions(section: string, get: Lookup): SwiftOptions {
  const authVersion = get('swift_auth_version') ?? '1'
  if (!['1', '1.0', '3', '3.0'].includes(authVersion)) {
    throw new Error(`[${section}] swift_auth_version ${authVersion} is not supported (1 or 3)`)
  }
  const insecure = (get('swift_auth_insecure') ?? 'false').toLowerCase()
  return {
    authVersion,
    authUrl: get('swift_authurl') ?? 'http://localhost:8080/auth/v1.0',
    user: get('swift_user') ?? 'admin:admin',
    key: get('swift_key') ?? 'admin',
    projectName: get('swift_project_name') ?? get('swift_tenant_name'),
    userDomainName: get('swift_user_domain_name') ?? 'Default',
    projectDomainName: get('swift_project_domain_name') ?? 'Default',
    preauthUrl: get('swift_url') || undefined,
    preauthToken: get('swift_preauthtoken') || undefined,
    region: get('swift_region') || undefined,
    endpointType: get('swift_endpoint_type') ?? 'publicURL',
    serviceType: get('swift_service_type') ?? 'object-store',
    authInsecure: ['true', '1', 'yes', 'on'].includes(insecure),
    cacert: get('swift_cacert') || undefined,
    containerPrefix: get('swift_container_prefix') ?? 'gnocchi',
    timeoutMs: int(section, 'swift_timeout', get('swift_timeout'), 300, 0) * 1000,
  }
}
