/**
 * Aggregate storage: per metric, one raw ("unaggregated", `none_v3`) object holding the
 * bounded raw series, and one split object per (method, granularity, split key), with
 * upstream's object layout so both implementations can share a storage.
 * Methods are batched so that network drivers can pipeline; bytes are the carbonara codec's.
 */
export interface SplitRef {
  readonly metricId: string
  /** Method name as written in object names (`mean`, `rate:max`, `95pct`). */
  readonly method: string
  readonly granularityNs: bigint
  readonly keyNs: bigint
}

export interface SplitWrite {
  readonly ref: SplitRef
  readonly bytes: Uint8Array
}

export interface StorageDriver {
  readonly name: string
  /**
   * Optional: metrics per round of processing I/O (raw objects read, splits and raw objects
   * written) within one processing batch; unset: the whole batch at once. A round holds its
   * decoded and encoded splits in memory until written (Redis: ~150 KB a metric of policy
   * `high`), so smaller rounds bound memory and garbage-collection work.
   */
  readonly processChunkMetrics?: number
  /**
   * Optional: putProcessed has copied the bytes of `splits` when it returns its promise (it
   * reads them before it first waits), so the engine may encode them into a buffer it reuses
   * right after the call (ByteArena) instead of allocating each one.
   */
  readonly copiesSplitBytes?: boolean
  /**
   * Optional: listing a metric's splits is a request to the backend (S3, Swift), so reads of a
   * bounded range fetch the splits it needs by name instead (direct-split-read.ts).
   */
  readonly listingIsRequest?: boolean
  /** Creates what the backend needs (file: tmp dir + frozen subdir config). Idempotent. */
  upgrade(): Promise<void>
  /** Raw object per metric; `undefined` when the metric has no storage yet. */
  getUnaggregated(metricIds: readonly string[]): Promise<Map<string, Uint8Array | undefined>>
  putUnaggregated(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void>
  /**
   * Split keys (ns) stored per aggregation, keyed `${method}|${granularityNs}`; a metric
   * without a raw object → `undefined` (upstream MetricDoesNotExist).
   */
  listSplitKeys(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<Map<string, bigint[]> | undefined>
  /**
   * Optional, for read caches (SplitCache): listSplitKeys, plus per aggregation key a version
   * token that changes whenever that aggregation's listing or any of its splits changes
   * (`undefined`: not cacheable, e.g. changed too recently to tell a later change apart).
   */
  listSplitKeysWithVersions?(
    metricId: string,
    aggregations: ReadonlyArray<{ readonly method: string; readonly granularityNs: bigint }>,
  ): Promise<{ keys: Map<string, bigint[]>; versions: Map<string, string | undefined> } | undefined>
  /**
   * Optional, for the engine's hot-metric cache (HotMetrics): like getUnaggregated, except that
   * a metric whose raw object is still the one of version `known.get(id)` (returned by
   * putProcessed) comes back as UNCHANGED, at the cost of a cheap check instead of a read.
   * Every processing rewrites the raw object (ours and upstream's), so UNCHANGED also means
   * that no other process has processed the metric since.
   */
  getUnaggregatedUnlessUnchanged?(
    metricIds: readonly string[],
    known: ReadonlyMap<string, RawVersion>,
  ): Promise<Map<string, Uint8Array | undefined | typeof UNCHANGED>>
  /**
   * Optional: `splits`, then the raw objects, as one step (putSplits then putUnaggregated, or
   * better: Redis writes both in one atomic HSET per metric). Returns the version of each raw
   * object written, for getUnaggregatedUnlessUnchanged.
   */
  putProcessed?(
    splits: readonly SplitWrite[],
    raws: ReadonlyArray<readonly [string, Uint8Array]>,
  ): Promise<Map<string, RawVersion>>
  /** Same order as `refs`; `undefined` for a missing split. */
  getSplits(refs: readonly SplitRef[]): Promise<Array<Uint8Array | undefined>>
  putSplits(writes: readonly SplitWrite[]): Promise<void>
  deleteSplits(refs: readonly SplitRef[]): Promise<void>
  /** Everything of the metric, raw object and splits. */
  deleteMetric(metricId: string): Promise<void>
  close(): Promise<void>
}

/** See StorageDriver.getUnaggregatedUnlessUnchanged. */
export const UNCHANGED: unique symbol = Symbol('unchanged')

/** A driver's opaque identity of one stored raw object (file: inode and times; Redis: its bytes). */
export type RawVersion = string | Uint8Array

export function aggregationKey(method: string, granularityNs: bigint): string {
  return `${method}|${granularityNs}`
}
