/** What the indexer conformance suites share: options, fixtures and the per-test indexer. */
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach } from 'node:test'
import type { ArchivePolicy } from '../domain/archive-policy.ts'
import type { NewResource, Resource, ResourceAttributeSchema } from '../domain/resource.ts'
import type { Filter } from './filter.ts'
import type { Indexer, ResourceQuery, SortKey } from './indexer.ts'

export interface IndexerConformanceOptions {
  /** A fresh, empty, upgraded-or-not indexer per test; `cleanup` runs after it is closed. */
  readonly newIndexer: () => Promise<{ indexer: Indexer; cleanup?: () => Promise<void> }>
  /**
   * `lifespan` filters work (false on MySQL: IndexerNotImplementedError, as upstream); the
   * driver's `capabilities.lifespanFilters` must say the same.
   */
  readonly lifespanSupported?: boolean
}

export const S = 1_000_000_000n
export const T0 = 1_388_714_522_000_000_000n // 2014-01-03T02:02:02Z
export const US = 1000n

export const LOW: ArchivePolicy = {
  name: 'low',
  backWindow: 0,
  definition: [{ granularityNs: 300n * S, points: 8640, timespanNs: 2_592_000n * S }],
  aggregationMethods: ['mean', 'min', 'max', 'sum', 'std', 'count'],
}

export const HOST_ATTRS: Record<string, ResourceAttributeSchema> = {
  host: { type: 'string', required: true, minLength: 0, maxLength: 255 },
  flavor: { type: 'string', required: false, minLength: 0, maxLength: 20 },
  image: { type: 'uuid', required: false },
  cpus: { type: 'number', required: false, min: 0, max: null },
  enabled: { type: 'bool', required: false },
  booted_at: { type: 'datetime', required: false },
}

export const DEFAULT_SORTS: SortKey[] = [
  { key: 'revision_start', direction: 'asc' },
  { key: 'started_at', direction: 'asc' },
  { key: 'id', direction: 'asc' },
]

/**
 * In the enclosing describe: a fresh upgraded indexer before each test (handed to `set`,
 * then `prepare`d), closed and cleaned up after it.
 */
export function withFreshIndexer(
  options: IndexerConformanceOptions,
  set: (indexer: Indexer) => void,
  prepare?: (indexer: Indexer) => Promise<void>,
): void {
  let indexer: Indexer | undefined
  let cleanup: (() => Promise<void>) | undefined
  beforeEach(async () => {
    const made = await options.newIndexer()
    indexer = made.indexer
    cleanup = made.cleanup
    set(indexer)
    await indexer.upgrade()
    await prepare?.(indexer)
  })
  afterEach(async () => {
    await indexer?.close()
    await cleanup?.()
  })
}

/** Resource shorthands on the current test's indexer. */
export function resourceHelpers(current: () => Indexer) {
  const newResource = (over: Partial<NewResource> = {}): Promise<Resource> => {
    const id = over.id ?? randomUUID()
    return current().createResource({
      id,
      originalResourceId: id,
      type: 'generic',
      creator: 'alice',
      userId: null,
      projectId: null,
      ...over,
    })
  }
  const list = (q: Partial<ResourceQuery> = {}) =>
    current().listResources({ type: 'generic', sorts: DEFAULT_SORTS, ...q })
  const ids = (rs: readonly Resource[]) => rs.map((r) => r.id)
  const search = async (filter: Filter, type = 'generic') =>
    ids(await list({ type, filter, sorts: [{ key: 'id', direction: 'asc' }] }))
  return { newResource, list, ids, search }
}
