/**
 * The conf upstream's s3 and swift drivers (python3-gnocchi, in the interop tests' subprocess)
 * get for the test server's store: the same options as ours, in upstream's option names.
 */
import type { S3Options } from '../s3-options.ts'
import type { SwiftOptions } from '../swift-client.ts'

/** `s3_*` options for the bucket prefix and credentials of `o`. */
export function upstreamS3Conf(o: S3Options): Record<string, unknown> {
  return {
    s3_endpoint_url: o.endpointUrl,
    s3_region_name: null,
    s3_access_key_id: o.accessKeyId,
    s3_secret_access_key: o.secretAccessKey,
    s3_bucket_prefix: o.bucketPrefix,
    s3_check_consistency_timeout: 60,
    s3_max_pool_connections: 10,
  }
}

/**
 * `swift_*` options (auth v1) for the account of `o`; `containerPrefix` as upstream is to
 * use it (its incoming driver ignores it).
 */
export function upstreamSwiftConf(o: SwiftOptions, containerPrefix: string): Record<string, unknown> {
  return {
    swift_auth_version: '1',
    swift_authurl: o.authUrl,
    swift_user: o.user,
    swift_key: o.key,
    swift_project_name: null,
    swift_user_domain_name: 'Default',
    swift_project_domain_name: 'Default',
    swift_url: o.preauthUrl ?? null,
    swift_preauthtoken: null,
    swift_region: null,
    swift_endpoint_type: 'publicURL',
    swift_service_type: 'object-store',
    swift_auth_insecure: false,
    swift_cacert: null,
    swift_container_prefix: containerPrefix,
    swift_timeout: 60,
  }
}
