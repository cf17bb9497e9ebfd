import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { hostname } from 'node:os'
import type { ApiConfig, ApiDeps } from '../api/deps.ts'
import { KeystoneAuth } from '../api/keystone/keystone-auth.ts'
import { PolicySource } from '../api/policy-file.ts'
import { type ApiServerOptions, createApiServer } from '../api/server.ts'
import { parseTimespanNs } from '../compat/timespan.ts'
import { parseTimestampNs } from '../compat/timestamp.ts'
import { DEFAULT_AGGREGATION_METHODS, type GnocchiConfig, sqlitePathFromUrl } from '../config/config.ts'
import { createConsoleMount } from '../console/console-mount.ts'
import type { Coordinator } from '../coordination/coordinator.ts'
import { RedisCoordinator } from '../coordination/redis-coordinator.ts'
import { SqliteCoordinator } from '../coordination/sqlite-coordinator.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import { FileIncomingDriver } from '../incoming/file/file-incoming-driver.ts'
import type { IncomingDriver } from '../incoming/incoming-driver.ts'
import { NotifyingIncomingDriver } from '../incoming/notifying-incoming-driver.ts'
import { RedisIncomingDriver } from '../incoming/redis/redis-incoming-driver.ts'
import { S3IncomingDriver } from '../incoming/s3/s3-incoming-driver.ts'
import { SwiftIncomingDriver } from '../incoming/swift/swift-incoming-driver.ts'
import { SqlIndexer } from '../indexer/sql/sql-indexer.ts'
import type { Logger } from '../log/logger.ts'
import { Metricd } from '../metricd/metricd.ts'
import { MetricdProcessor } from '../metricd/metricd-processor.ts'
import { FileStorageDriver } from '../storage/file/file-storage-driver.ts'
import { MetricStorageEngine } from '../storage/metric-storage.ts'
import { RedisStorageDriver } from '../storage/redis/redis-storage-driver.ts'
import { S3StorageDriver } from '../storage/s3/s3-storage-driver.ts'
import type { StorageDriver } from '../storage/storage-driver.ts'
import { SwiftStorageDriver } from '../storage/swift/swift-storage-driver.ts'

/** Version reported by `GET /` (`build`). */
export const GNOCCHI_TS_VERSION = '4.6.0+ts.0.1.0'

/** Every driver of a deployment, built from the config (composition root). */
export interface Runtime {
  readonly config: GnocchiConfig
  readonly log: Logger
  readonly indexer: SqlIndexer
  readonly incoming: NotifyingIncomingDriver
  readonly storageDriver: StorageDriver
  readonly engine: MetricStorageEngine
  readonly coordinator: Coordinator
  readonly processor: MetricdProcessor
  close(): Promise<void>
}

export function buildRuntime(config: GnocchiConfig, log: Logger): Runtime {
  const coordinationScheme = config.coordinationUrl.split(':', 1)[0]
  if (coordinationScheme !== 'sqlite' && coordinationScheme !== 'redis' && coordinationScheme !== 'rediss') {
    throw new Error(
      `coordination_url ${config.coordinationUrl}: only sqlite:// and redis:// are supported yet`,
    )
  }
  // sqlite:///path (embedded), postgresql://…, mysql[+pymysql]://… (architecture.md §5).
  const indexer = new SqlIndexer({
    url: config.indexer.url.startsWith('sqlite:')
      ? { engine: 'sqlite', path: sqlitePathFromUrl(config.indexer.url) }
      : config.indexer.url,
    parsers: {
      timestamp: (v) => parseTimestampNs(v),
      timespan: (v) => parseTimespanNs(v),
    },
  })
  const incoming = new NotifyingIncomingDriver(newIncomingDriver(config))
  const storageDriver = newStorageDriver(config, log)
  const engine = new MetricStorageEngine(storageDriver, log.child({ component: 'storage' }), undefined, {
    readCachePoints: config.storage.readCachePoints,
    processCachePoints: config.storage.processCachePoints,
  })
  // sqlite:///path: processes of one host; redis://…: tooz's Redis layout, across hosts.
  const coordinator: Coordinator =
    coordinationScheme === 'sqlite'
      ? new SqliteCoordinator({ path: sqlitePathFromUrl(config.coordinationUrl) })
      : new RedisCoordinator({ url: config.coordinationUrl })
  const processor = new MetricdProcessor({
    indexer,
    incoming,
    engine,
    coordinator,
    log: log.child({ component: 'metricd' }),
  })
  let closed = false
  return {
    config,
    log,
    indexer,
    incoming,
    storageDriver,
    engine,
    coordinator,
    processor,
    close: async () => {
      if (closed) return
      closed = true
      await coordinator.close()
      await incoming.close()
      await storageDriver.close()
      await indexer.close()
    },
  }
}

function newIncomingDriver(config: GnocchiConfig): IncomingDriver {
  const c = config.incoming
  if (c.driver === 'redis') return new RedisIncomingDriver({ url: c.redisUrl })
  if (c.driver === 's3') return new S3IncomingDriver(c.s3)
  if (c.driver === 'swift') return new SwiftIncomingDriver(c.swift)
  return new FileIncomingDriver({ basePath: c.fileBasepath, fsync: c.fileFsync, inodePool: c.fileInodePool })
}

function newStorageDriver(config: GnocchiConfig, log: Logger): StorageDriver {
  const c = config.storage
  if (c.driver === 'redis') return new RedisStorageDriver({ url: c.redisUrl })
  if (c.driver === 's3') return new S3StorageDriver(c.s3)
  if (c.driver === 'swift') return new SwiftStorageDriver(c.swift)
  return new FileStorageDriver({
    basePath: c.fileBasepath,
    subdirLen: c.fileSubdirLen,
    fsync: c.fileFsync,
    syncMethod: c.fileSyncMethod,
    inodePool: c.fileInodePool,
    onWarning: (msg) => log.warn(msg),
  })
}

/** What the upgrade log says of a storage/incoming backend: where it is, never a credential. */
function backendLogFields(c: GnocchiConfig['storage'] | GnocchiConfig['incoming'], bucketSuffix: string) {
  if (c.driver === 'redis') return { driver: 'redis', url: redactUrl(c.redisUrl) }
  if (c.driver === 's3')
    return {
      driver: 's3',
      endpoint: c.s3.endpointUrl ?? 'AWS',
      bucket: `${c.s3.bucketPrefix}-${bucketSuffix}`,
    }
  if (c.driver === 'swift')
    return { driver: 'swift', authurl: redactUrl(c.swift.authUrl), user: c.swift.user }
  return { driver: 'file', basepath: c.fileBasepath }
}

export interface UpgradeOptions {
  readonly skipIndex?: boolean
  readonly skipStorage?: boolean
  readonly skipIncoming?: boolean
  readonly skipArchivePoliciesCreation?: boolean
  /** `--sacks-number` (default 128), used only when the sacks are not set up yet. */
  readonly sacksNumber?: number
}

const S = 1_000_000_000n
const DAY = 86_400n * S

/** api.md §3.2: created only when there is no archive policy and no rule at all. */
export function defaultArchivePolicies(
  methods: readonly string[] = DEFAULT_AGGREGATION_METHODS,
): ArchivePolicy[] {
  return [
    {
      name: 'bool',
      backWindow: 3600,
      definition: [{ granularityNs: S, points: 31_536_000, timespanNs: 365n * DAY }],
      aggregationMethods: ['last'],
    },
    {
      name: 'low',
      backWindow: 0,
      definition: [{ granularityNs: 300n * S, points: 8640, timespanNs: 30n * DAY }],
      aggregationMethods: [...methods],
    },
    {
      name: 'medium',
      backWindow: 0,
      definition: [
        { granularityNs: 60n * S, points: 10080, timespanNs: 7n * DAY },
        { granularityNs: 3600n * S, points: 8760, timespanNs: 365n * DAY },
      ],
      aggregationMethods: [...methods],
    },
    {
      name: 'high',
      backWindow: 0,
      definition: [
        { granularityNs: S, points: 3600, timespanNs: 3600n * S },
        { granularityNs: 60n * S, points: 10080, timespanNs: 7n * DAY },
        { granularityNs: 3600n * S, points: 8760, timespanNs: 365n * DAY },
      ],
      aggregationMethods: [...methods],
    },
  ]
}

/**
 * `gnocchi-upgrade` (upstream cli/manage.py `upgrade`). Idempotent, and safe when several
 * processes of a fresh deployment run it at once (API, metricd, hosts): the default policies
 * are created in one transaction that only the first of them commits.
 */
export async function runUpgrade(runtime: Runtime, options: UpgradeOptions = {}): Promise<void> {
  const { indexer, incoming, storageDriver, log, config } = runtime
  if (!options.skipIndex) {
    log.info('Upgrading indexer', { url: config.indexer.url })
    await indexer.upgrade()
  }
  if (!options.skipStorage) {
    log.info('Upgrading storage', backendLogFields(config.storage, 'aggregates'))
    await storageDriver.upgrade()
  }
  // Before the sacks (unlike upstream's order): openRuntime takes configured sacks for an
  // initialised deployment, so a process killed in between must leave them unconfigured.
  if (!options.skipArchivePoliciesCreation && !options.skipIndex) {
    const created = await indexer.createDefaultArchivePolicies(
      defaultArchivePolicies(config.archivePolicy.defaultAggregationMethods),
      [{ name: 'default', metricPattern: '*', archivePolicyName: 'low' }],
    )
    if (created) log.info('Created default archive policies and rule')
  }
  if (!options.skipIncoming) {
    log.info('Upgrading incoming storage', backendLogFields(config.incoming, 'measure'))
    await incoming.upgrade(options.sacksNumber ?? 128)
  }
}

export function apiConfigFrom(config: GnocchiConfig): ApiConfig {
  return {
    maxLimit: config.api.maxLimit,
    authMode: config.api.authMode,
    corsAllowedOrigins: config.cors.allowedOrigin,
    enableProxyHeadersParsing: config.api.enableProxyHeadersParsing,
    operationTimeoutMs: config.api.operationTimeoutMs,
    defaultAggregationMethods: config.archivePolicy.defaultAggregationMethods,
    version: GNOCCHI_TS_VERSION,
    aggregatesMaxPoints: config.api.aggregatesMaxPoints,
    filterListings: config.api.filterListings,
    maxBodyBytesInFlight: config.api.maxBodyBytesInFlight,
  }
}

/** `[oslo_policy]` files and, in keystone mode, the token validation of `[keystone_authtoken]`. */
export function apiServerOptionsFrom(runtime: Runtime): ApiServerOptions {
  const { config } = runtime
  const log = runtime.log.child({ component: 'api' })
  return {
    policySource: new PolicySource(config.osloPolicy.policyFile, config.osloPolicy.policyDirs, log),
    keystone: config.keystone
      ? new KeystoneAuth(config.keystone, log.child({ component: 'keystone' }))
      : undefined,
    console: config.api.enableConsole
      ? createConsoleMount({
          authMode: config.api.authMode,
          keystone: config.keystone
            ? {
                url: config.keystone.wwwAuthenticateUri ?? config.keystone.authUrl,
                timeoutMs: config.keystone.httpTimeoutS * 1000,
              }
            : undefined,
          log: log.child({ component: 'console' }),
        })
      : undefined,
  }
}

export function apiDepsFrom(runtime: Runtime): ApiDeps {
  return {
    indexer: runtime.indexer,
    incoming: runtime.incoming,
    storage: runtime.engine,
    processor: runtime.processor,
    coordinator: runtime.coordinator,
    config: apiConfigFrom(runtime.config),
    log: runtime.log.child({ component: 'api' }),
  }
}

export function createMetricd(
  runtime: Runtime,
  overrides: { firstCleanupDelayMs?: number; workerIndex?: number } = {},
): Metricd {
  const m = runtime.config.metricd
  // Worker 0 (or the only process) also runs the janitor and the backlog reporter.
  const first = (overrides.workerIndex ?? 0) === 0
  const metricd = new Metricd(
    {
      processor: runtime.processor,
      incoming: runtime.incoming,
      coordinator: runtime.coordinator,
      statistics: runtime.engine.statistics,
      log: runtime.log.child({ component: 'metricd' }),
      recoverResourceTypes: () => recoverResourceTypes(runtime),
    },
    {
      processingDelayMs: m.metricProcessingDelayMs,
      cleanupDelayMs: m.metricCleanupDelayMs,
      cleanupBatchSize: m.cleanupBatchSize,
      batchMetrics: m.batchMetrics,
      greedy: m.greedy,
      processingReplicas: m.processingReplicas,
      memberId:
        overrides.workerIndex === undefined
          ? undefined
          : `${hostname()}.${overrides.workerIndex}.${randomUUID()}`,
      reportingDelayMs: first ? m.metricReportingDelayMs : -1,
      janitor: first,
      firstCleanupDelayMs: overrides.firstCleanupDelayMs,
    },
  )
  // In-process hook: measures accepted by this process's API wake metricd at once.
  runtime.incoming.onAdded(() => metricd.notify())
  return metricd
}

/**
 * Finishes or rolls back resource types left mid-DDL by a dead process (sql/resource-type-recovery.ts),
 * those whose DDL started `[indexer] resource_type_ddl_timeout` ago. Never throws: logs.
 */
export async function recoverResourceTypes(runtime: Runtime): Promise<void> {
  const log = runtime.log.child({ component: 'indexer' })
  try {
    const recovered = await runtime.indexer.recoverResourceTypes(
      runtime.config.indexer.resourceTypeDdlTimeoutMs,
    )
    for (const r of recovered) {
      if (r.error)
        log.error('Resource type recovery failed', {
          type: r.name,
          from: r.from,
          state: r.outcome,
          error: r.error,
        })
      else
        log.warn('Recovered resource type left mid-DDL', { type: r.name, from: r.from, outcome: r.outcome })
    }
  } catch (error) {
    log.error('Resource type recovery failed', { error })
  }
}

/** Opens the incoming driver, running the upgrade first when the data dir is new. */
export async function openRuntime(runtime: Runtime, upgrade: UpgradeOptions | false): Promise<void> {
  const configured = await runtime.incoming.isConfigured()
  if (upgrade !== false) {
    // First start: the full gnocchi-upgrade. Later starts: only the idempotent schema and
    // storage checks (default policies are never re-created behind the operator's back).
    await runUpgrade(
      runtime,
      configured ? { ...upgrade, skipIncoming: true, skipArchivePoliciesCreation: true } : upgrade,
    )
  }
  await recoverResourceTypes(runtime)
  await runtime.incoming.open()
}

export interface RunningApi {
  readonly server: Server
  readonly runtime: Runtime
  readonly metricd: Metricd | undefined
  /** Graceful stop: stop accepting, finish metricd's current sack, close drivers. */
  stop(): Promise<void>
}

export interface StartApiOptions {
  readonly upgrade: UpgradeOptions | false
  readonly embeddedMetricd: boolean
  readonly firstCleanupDelayMs?: number
}

export async function startApi(
  config: GnocchiConfig,
  log: Logger,
  options: StartApiOptions,
): Promise<RunningApi> {
  const runtime = buildRuntime(config, log)
  try {
    await openRuntime(runtime, options.upgrade)
  } catch (error) {
    // Closed so that a retry (a backend unavailable at start) leaks no connection.
    await runtime.close().catch(() => {})
    throw error
  }
  const server = createApiServer(apiDepsFrom(runtime), apiServerOptionsFrom(runtime))
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const metricd = options.embeddedMetricd
    ? createMetricd(runtime, { firstCleanupDelayMs: options.firstCleanupDelayMs })
    : undefined
  await metricd?.start()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.api.port, config.api.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  log.info('gnocchi-api listening', {
    host: config.api.host,
    port: config.api.port,
    embeddedMetricd: !!metricd,
  })
  if (config.api.authMode === 'remoteuser' && !isLoopbackHost(config.api.host)) {
    // Anyone who reaches the port can claim any user (even `admin`) with that header.
    log.warn(
      'auth_mode = remoteuser trusts the X-Remote-User header of every request: this API listens beyond loopback, so the fronting proxy must be the only way in and must strip that header from client requests',
      { host: config.api.host, port: config.api.port },
    )
  }
  let stopping: Promise<void> | undefined
  return {
    server,
    runtime,
    metricd,
    stop: () => {
      stopping ??= (async () => {
        await drainKeepAlive(server, sockets)
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        // Requests in flight finish (bounded by the operation timeout).
        const idle = setInterval(() => server.closeIdleConnections(), 50)
        const timer = setTimeout(() => server.closeAllConnections(), config.api.operationTimeoutMs + 5000)
        timer.unref()
        await metricd?.stop()
        await closed
        clearInterval(idle)
        clearTimeout(timer)
        await runtime.close()
      })()
      return stopping
    },
  }
}

/**
 * Before closing: answers every request with `Connection: close` for up to a second, so busy
 * keep-alive clients hear that the connection ends instead of having it closed under a request
 * they are sending (which `server.close()` does to the connections idle at that instant).
 */
async function drainKeepAlive(server: Server, sockets: Set<Socket>): Promise<void> {
  if (sockets.size === 0) return
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close')
  })
  const deadline = Date.now() + 1000
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
}

/** A URL for the logs, without its credentials. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
