/**
 * gnocchi-upgrade's work over a built runtime: indexer schema, storage and incoming setup, and
 * the default archive policies upstream creates on a fresh install.
 */

import { DEFAULT_AGGREGATION_METHODS, type GnocchiConfig } from '../config/config.ts'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { Runtime } from './app.ts'

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

/** A URL for the logs, without its credentials. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}
