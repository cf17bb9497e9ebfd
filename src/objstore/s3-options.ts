/** `[storage]`/`[incoming]` s3_* options, upstream's names and defaults (gnocchi/storage/s3.py). */
export interface S3Options {
  readonly endpointUrl: string | undefined
  readonly regionName: string | undefined
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** `s3_bucket_prefix` (default `gnocchi`, ≤ 26 characters). */
  readonly bucketPrefix: string
  /** `s3_check_consistency_timeout` in ms (default 60 s; 0 disables the read-back). */
  readonly checkConsistencyTimeoutMs: number
  /** `s3_max_pool_connections` (default 50). */
  readonly maxPoolConnections: number
}
