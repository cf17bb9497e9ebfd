import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism, homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type { S3Options } from '../objstore/s3-options.ts'
import type { SwiftOptions } from '../objstore/swift-client.ts'
import { type IniData, Options, parseIni, setOption } from './ini.ts'
import {
  type KeystoneAuthConfig,
  keystoneAuthConfig,
  type OsloPolicyConfig,
  osloPolicyConfig,
} from './keystone-config.ts'
import { readS3Options, readSwiftOptions } from './objstore-config.ts'

/**
 * Configuration with upstream's sections, option names and defaults (architecture.md §10).
 *
 * Sources, later wins: built-in defaults → config files (`--config-file` repeatable, else the
 * first of `~/.gnocchi/gnocchi.conf`, `~/gnocchi.conf`, `/etc/gnocchi/gnocchi.conf`,
 * `/etc/gnocchi.conf`, plus `*.conf` in the matching `gnocchi.conf.d`) → environment
 * (`GNOCCHI_INDEXER_URL`, and `GNOCCHI__<SECTION>__<OPTION>` for any option, e.g.
 * `GNOCCHI__API__PORT=9000`) → command-line `--set section.option=value`.
 *
 * Embedded deployment (gnocchi-ts extension). When no config file is found at all,
 * everything lives under `./data`: `[storage]`/`[incoming] file_basepath = ./data`, API on
 * 127.0.0.1:8041. Whenever `[indexer] url` is unset it defaults to the SQLite file
 * `sqlite:///<storage file_basepath>/gnocchi.sqlite` (SQLAlchemy URL form: `sqlite:////abs/path`
 * for an absolute path, `sqlite:///rel/path` relative to the working directory, `sqlite://` for
 * memory). `[DEFAULT] coordination_url` defaults to `sqlite:///<incoming file_basepath>/gnocchi-coordination.sqlite`.
 * `[incoming] file_fsync` (default true) fsyncs bundles before the API answers 202;
 * `[storage] file_fsync` (default true; upstream never fsyncs aggregates) fsyncs every split
 * and raw object before the processed bundles are deleted, so that not even a power loss can
 * drop measures that were acknowledged. A process crash alone loses nothing either way
 * (processing is idempotent and objects are renamed into place); `false` halves write cost.
 * `[storage] file_sync_method` (`fsync`, default, or `syncfs`) says how: see FileSyncMethod.
 * `[metricd] batch_metrics` (default 1, one sack at a time; REDIS_BATCH_METRICS is the figure for Redis)
 * processes several sacks as one batch of I/O until that many metrics are pending (see
 * MetricdProcessor.processSacks).
 * `[api] embedded_metricd` (default true) runs metricd inside gnocchi-api; `[api] auto_upgrade`
 * (default true) runs the gnocchi-upgrade steps when the data directory is not initialised.
 */
/**
 * `[metricd] batch_metrics` with `[storage] driver = redis`: every round trip to Redis costs
 * ~100 µs of CPU, so one per sack (128 by default) would weigh more than the metrics
 * themselves in the steady state (docs/benchmarks.md). The Redis driver writes in rounds of
 * 64 metrics (processChunkMetrics), so a batch does not hold all its splits at once.
 */
export const REDIS_BATCH_METRICS = 1000

export interface GnocchiConfig {
  readonly configFiles: readonly string[]
  readonly debug: boolean
  readonly coordinationUrl: string
  readonly parallelOperations: number
  readonly api: {
    readonly host: string
    readonly port: number
    /** gnocchi-ts extension `[api] workers` (default: CPUs): processes serving the port (1: no fork). */
    readonly workers: number
    readonly authMode: 'basic' | 'remoteuser' | 'keystone'
    readonly maxLimit: number
    readonly operationTimeoutMs: number
    readonly enableProxyHeadersParsing: boolean
    readonly embeddedMetricd: boolean
    readonly autoUpgrade: boolean
    /** gnocchi-ts extension `[api] aggregates_max_points` (default 5 000 000). */
    readonly aggregatesMaxPoints: number
    /** gnocchi-ts extension `[api] filter_listings` (default false, as upstream). */
    readonly filterListings: boolean
    /** gnocchi-ts extension: serve the web console at `/ui/` (default true). */
    readonly enableConsole: boolean
    /** gnocchi-ts extension `[api] max_body_bytes_in_flight` (unset: 1/64 of memory, 128 MiB..1 GiB). */
    readonly maxBodyBytesInFlight: number | undefined
  }
  readonly indexer: {
    readonly url: string
    /**
     * gnocchi-ts extension `[indexer] resource_type_ddl_timeout` in ms (default 300 s): a
     * resource type whose DDL started longer ago is taken for dead and recovered.
     */
    readonly resourceTypeDdlTimeoutMs: number
  }
  readonly storage: {
    readonly driver: StorageDriverName
    /** `[storage] redis_url` (upstream default `redis://localhost:6379/`), for driver redis. */
    readonly redisUrl: string
    /** `[storage] s3_*`, for driver s3. */
    readonly s3: S3Options
    /** `[storage] swift_*`, for driver swift. */
    readonly swift: SwiftOptions
    readonly fileBasepath: string
    readonly fileSubdirLen: number
    /** gnocchi-ts extension `[storage] file_fsync` (default true; upstream never fsyncs). */
    readonly fileFsync: boolean
    /** gnocchi-ts extension `[storage] file_sync_method` (`fsync` | `syncfs`, default `fsync`). */
    readonly fileSyncMethod: 'fsync' | 'syncfs'
    /** gnocchi-ts extension `[storage] file_inode_pool` (default false): see InodePool. */
    readonly fileInodePool: boolean
    /** gnocchi-ts extension `[storage] read_cache_points` (default 4 000 000; 0 disables). */
    readonly readCachePoints: number
    /** gnocchi-ts extension `[storage] process_cache_points` (default 8 000 000; 0 disables). */
    readonly processCachePoints: number
  }
  readonly incoming: {
    readonly driver: StorageDriverName
    readonly fileBasepath: string
    /** `[incoming] redis_url` (default: `[storage] redis_url`, as upstream), for driver redis. */
    readonly redisUrl: string
    /** `[incoming] s3_*` (each defaults to its `[storage]` namesake, as upstream). */
    readonly s3: S3Options
    /** `[incoming] swift_*` (each defaults to its `[storage]` namesake). */
    readonly swift: SwiftOptions
    /** gnocchi-ts extension `[incoming] file_fsync` (default true: a 202 means durable). */
    readonly fileFsync: boolean
    /** gnocchi-ts extension `[incoming] file_inode_pool` (default false): see InodePool. */
    readonly fileInodePool: boolean
  }
  readonly metricd: {
    readonly workers: number
    readonly metricProcessingDelayMs: number
    readonly greedy: boolean
    readonly metricReportingDelayMs: number
    readonly metricCleanupDelayMs: number
    readonly processingReplicas: number
    readonly cleanupBatchSize: number
    /** gnocchi-ts extension `[metricd] batch_metrics` (default 1; REDIS_BATCH_METRICS on Redis storage). */
    readonly batchMetrics: number
    readonly metricInactiveAfterS: number
    readonly resourceCleanupAfterS: number
  }
  readonly archivePolicy: { readonly defaultAggregationMethods: readonly string[] }
  /** gnocchi-statsd (architecture.md §7.1). */
  readonly statsd: {
    readonly host: string
    readonly port: number
    /** Required by gnocchi-statsd (a UUID), null when unset. */
    readonly resourceId: string | null
    readonly creator: string | null
    /** Empty/unset: the archive policy rules decide. */
    readonly archivePolicyName: string | null
    readonly flushDelayMs: number
  }
  readonly cors: { readonly allowedOrigin: readonly string[] }
  /** `[keystone_authtoken]`, read only with `[api] auth_mode = keystone`. */
  readonly keystone: KeystoneAuthConfig | undefined
  readonly osloPolicy: OsloPolicyConfig
}

/** `[storage]`/`[incoming]` drivers: upstream's `file`, `redis`, `s3`, `swift` (not `ceph`). */
export type StorageDriverName = 'file' | 'redis' | 's3' | 'swift'
const DRIVERS: readonly string[] = ['file', 'redis', 's3', 'swift']

export interface LoadConfigOptions {
  /** `--config-file` values; when given, no search happens. */
  readonly configFiles?: readonly string[]
  /** `--config-dir` values. */
  readonly configDirs?: readonly string[]
  /** `section.option=value` overrides (flags). */
  readonly overrides?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** Search the standard locations when no file is given (default true). */
  readonly search?: boolean
}

function searchConfigFiles(): { files: string[]; dirs: string[] } {
  const home = homedir()
  const locations = [join(home, '.gnocchi'), home, '/etc/gnocchi', '/etc']
  const files: string[] = []
  const dirs: string[] = []
  for (const dir of locations) {
    const file = join(dir, 'gnocchi.conf')
    if (files.length === 0 && existsSync(file)) files.push(file)
    const confD = join(dir, 'gnocchi.conf.d')
    if (dirs.length === 0 && existsSync(confD)) dirs.push(confD)
  }
  return { files, dirs }
}

function confFilesIn(dir: string): string[] {
  try {
    if (!statSync(dir).isDirectory()) return []
    return readdirSync(dir)
      .filter((f) => f.endsWith('.conf'))
      .sort()
      .map((f) => join(dir, f))
  } catch {
    return []
  }
}

/** SQLAlchemy-style `sqlite:///path` → a file path (`:memory:` for `sqlite://`). */
export function sqlitePathFromUrl(url: string, cwd = process.cwd()): string {
  const m = /^sqlite:\/\/(\/(.*))?$/.exec(url)
  if (!m) throw new Error(`Not a sqlite URL: ${url}`)
  const path = m[2] ?? ''
  if (path === '' || path === ':memory:') return ':memory:'
  return isAbsolute(path) ? path : resolve(cwd, path)
}

/**
 * `[indexer] url` schemes (upstream's SQLAlchemy forms): `sqlite:///path` (embedded),
 * `postgresql[+driver]://user:pw@host:port/db?opts`, `mysql[+pymysql]://user:pw@host/db?opts`.
 */
export function checkIndexerUrl(url: string): string {
  if (!/^(sqlite|postgresql|postgres|mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i.test(url)) {
    throw new Error(`[indexer] url ${url}: unsupported (sqlite://, postgresql://, mysql://)`)
  }
  return url
}

export function sqliteUrlForPath(path: string): string {
  return `sqlite:///${path}`
}

export const DEFAULT_AGGREGATION_METHODS = ['mean', 'min', 'max', 'sum', 'std', 'count']

export function loadConfig(options: LoadConfigOptions = {}): GnocchiConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  let files = [...(options.configFiles ?? [])]
  let dirs = [...(options.configDirs ?? [])]
  if (files.length === 0 && dirs.length === 0 && options.search !== false) {
    const found = searchConfigFiles()
    files = found.files
    dirs = found.dirs
  }
  const allFiles = [...files, ...dirs.flatMap(confFilesIn)]
  const data: IniData = new Map()
  for (const file of allFiles) parseIni(readFileSync(file, 'utf8'), file, data)
  const embedded = allFiles.length === 0

  if (env.GNOCCHI_INDEXER_URL) setOption(data, 'indexer', 'url', env.GNOCCHI_INDEXER_URL)
  for (const [key, value] of Object.entries(env)) {
    const m = /^GNOCCHI__([A-Za-z0-9_]+?)__([A-Za-z0-9_]+)$/.exec(key)
    if (m && value !== undefined) {
      const section = m[1].toUpperCase() === 'DEFAULT' ? 'DEFAULT' : m[1].toLowerCase()
      setOption(data, section, m[2].toLowerCase(), value)
    }
  }
  for (const o of options.overrides ?? []) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(o)
    if (!m) throw new Error(`Invalid override ${JSON.stringify(o)}: expected section.option=value`)
    setOption(data, m[1], m[2], m[3])
  }

  const o = new Options(data)
  const cpus = availableParallelism()
  const defaultBase = embedded ? resolve(cwd, 'data') : '/var/lib/gnocchi'
  const storageBase = resolve(cwd, o.str('storage', 'file_basepath', defaultBase))
  const incomingBase = resolve(cwd, o.raw('incoming', 'file_basepath') ?? storageBase)
  const storageDriver = o.str('storage', 'driver', 'file')
  const incomingDriver = o.raw('incoming', 'driver') ?? storageDriver
  if (!DRIVERS.includes(storageDriver))
    throw new Error(`[storage] driver ${storageDriver} is not supported yet (${DRIVERS.join(', ')})`)
  const storageRedisUrl = o.str('storage', 'redis_url', 'redis://localhost:6379/')
  if (!DRIVERS.includes(incomingDriver))
    throw new Error(`[incoming] driver ${incomingDriver} is not supported yet (${DRIVERS.join(', ')})`)
  const fromStorage = (name: string) => o.raw('storage', name)
  const fromIncoming = (name: string) => o.raw('incoming', name) ?? o.raw('storage', name)
  const fileSyncMethod = o.str('storage', 'file_sync_method', 'fsync')
  if (fileSyncMethod !== 'fsync' && fileSyncMethod !== 'syncfs')
    throw new Error(`[storage] file_sync_method must be fsync or syncfs, got ${fileSyncMethod}`)
  const authMode = o.str('api', 'auth_mode', 'basic')
  if (authMode !== 'basic' && authMode !== 'remoteuser' && authMode !== 'keystone') {
    throw new Error(`[api] auth_mode ${authMode} is not supported (basic, remoteuser, keystone)`)
  }
  const seconds = (section: string, name: string, def: number) =>
    Math.round(o.float(section, name, def) * 1000)

  return {
    configFiles: allFiles,
    debug: o.bool('DEFAULT', 'debug', false),
    coordinationUrl: o.str(
      'DEFAULT',
      'coordination_url',
      sqliteUrlForPath(join(incomingBase, 'gnocchi-coordination.sqlite')),
    ),
    parallelOperations: o.int('DEFAULT', 'parallel_operations', cpus, 1),
    api: {
      host: o.str('api', 'host', embedded ? '127.0.0.1' : '0.0.0.0'),
      port: o.int('api', 'port', 8041, 0, 65535),
      workers: o.int('api', 'workers', cpus, 1),
      authMode,
      maxLimit: o.int('api', 'max_limit', 1000, 1),
      operationTimeoutMs: o.has('api', 'operation_timeout')
        ? seconds('api', 'operation_timeout', 10)
        : seconds('api', 'refresh_timeout', 10),
      enableProxyHeadersParsing: o.bool('api', 'enable_proxy_headers_parsing', false),
      embeddedMetricd: o.bool('api', 'embedded_metricd', true),
      autoUpgrade: o.bool('api', 'auto_upgrade', true),
      aggregatesMaxPoints: o.int('api', 'aggregates_max_points', 5_000_000, 1),
      filterListings: o.bool('api', 'filter_listings', false),
      enableConsole: o.bool('api', 'enable_console', true),
      maxBodyBytesInFlight: o.has('api', 'max_body_bytes_in_flight')
        ? o.int('api', 'max_body_bytes_in_flight', 0, 1024)
        : undefined,
    },
    indexer: {
      url: checkIndexerUrl(o.str('indexer', 'url', sqliteUrlForPath(join(storageBase, 'gnocchi.sqlite')))),
      resourceTypeDdlTimeoutMs: seconds('indexer', 'resource_type_ddl_timeout', 300),
    },
    storage: {
      driver: storageDriver as StorageDriverName,
      redisUrl: storageRedisUrl,
      s3: readS3Options('storage', fromStorage, env),
      swift: readSwiftOptions('storage', fromStorage),
      fileBasepath: storageBase,
      fileSubdirLen: o.int('storage', 'file_subdir_len', 2, 0, 32),
      fileFsync: o.bool('storage', 'file_fsync', true),
      fileSyncMethod,
      fileInodePool: o.bool('storage', 'file_inode_pool', false),
      readCachePoints: o.int('storage', 'read_cache_points', 4_000_000, 0),
      processCachePoints: o.int('storage', 'process_cache_points', 8_000_000, 0),
    },
    incoming: {
      driver: incomingDriver as StorageDriverName,
      fileBasepath: incomingBase,
      s3: readS3Options('incoming', fromIncoming, env),
      swift: readSwiftOptions('incoming', fromIncoming),
      // Upstream defaults every [incoming] option to its [storage] namesake.
      redisUrl: o.str('incoming', 'redis_url', storageRedisUrl),
      fileFsync: o.bool('incoming', 'file_fsync', true),
      fileInodePool: o.bool('incoming', 'file_inode_pool', false),
    },
    metricd: {
      workers: o.int('metricd', 'workers', cpus, 1),
      metricProcessingDelayMs: seconds('metricd', 'metric_processing_delay', 60),
      greedy: o.bool('metricd', 'greedy', true),
      metricReportingDelayMs: seconds('metricd', 'metric_reporting_delay', 120),
      metricCleanupDelayMs: seconds('metricd', 'metric_cleanup_delay', 300),
      processingReplicas: o.int('metricd', 'processing_replicas', 3, 1),
      cleanupBatchSize: o.int('metricd', 'cleanup_batch_size', 10000, 1),
      batchMetrics: o.int('metricd', 'batch_metrics', storageDriver === 'redis' ? REDIS_BATCH_METRICS : 1, 1),
      metricInactiveAfterS: o.float('metricd', 'metric_inactive_after', 0),
      resourceCleanupAfterS: o.float('metricd', 'resource_cleanup_after', 0),
    },
    archivePolicy: {
      defaultAggregationMethods: o.list(
        'archive_policy',
        'default_aggregation_methods',
        DEFAULT_AGGREGATION_METHODS,
      ),
    },
    statsd: {
      host: o.str('statsd', 'host', '0.0.0.0'),
      port: o.int('statsd', 'port', 8125, 0, 65535),
      resourceId: o.raw('statsd', 'resource_id') || null,
      creator: o.raw('statsd', 'creator') ?? null,
      archivePolicyName: o.raw('statsd', 'archive_policy_name') || null,
      flushDelayMs: seconds('statsd', 'flush_delay', 10),
    },
    cors: { allowedOrigin: o.list('cors', 'allowed_origin', []) },
    keystone: authMode === 'keystone' ? keystoneAuthConfig(o) : undefined,
    osloPolicy: osloPolicyConfig(o, allFiles, cwd),
  }
}
