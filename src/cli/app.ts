/**
 * The composition root: the drivers and services gnocchi.conf asks for (buildRuntime), opened
 * by every daemon (openRuntime). The API server is started by ./api-runtime.ts, upgrades are
 * done by ./upgrade.ts.
 */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { parseTimespanNs } from '../compat/timespan.ts'
import { parseTimestampNs } from '../compat/timestamp.ts'
import { type GnocchiConfig, sqlitePathFromUrl } from '../config/config.ts'
import type { Coordinator } from '../coordination/coordinator.ts'
import { RedisCoordinator } from '../coordination/redis-coordinator.ts'
import { SqliteCoordinator } from '../coordination/sqlite-coordinator.ts'
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
import { runUpgrade, type UpgradeOptions } from './upgrade.ts'

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
