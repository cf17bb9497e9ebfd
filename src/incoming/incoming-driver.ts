/**
 * The backlog of measures accepted by the API and not yet aggregated ("incoming storage").
 * Measures travel as bundles: the measures of one metric from one API call, encoded as
 * upstream does (16-byte records, int64 LE ns + float64 LE value; see bundle.ts). Bundles
 * live in sacks: sack = uuid-as-128-bit-integer mod sackCount.
 *
 * Durability contract: when `addMeasures` resolves, the bundles survive a crash of any
 * process (file driver: written to tmp, fsynced, renamed, directory fsynced).
 */
export interface IncomingDriver {
  readonly name: string
  /** True when the backend already stores a sack count (i.e. upgrade has run). */
  isConfigured(): Promise<boolean>
  /** Reads the sack count stored in the backend; creates it with `sacks` when absent. */
  upgrade(sacks: number): Promise<void>
  /** Loads the stored sack count; must be called before use (after upgrade on first run). */
  open(): Promise<void>
  readonly sackCount: number
  sackFor(metricId: string): number
  /** Upstream sack object name: `incoming<S>-<n>`. */
  sackName(sack: number): string

  /** Appends one bundle per metric; resolves once durable. */
  addMeasures(batch: ReadonlyMap<string, Uint8Array>): Promise<void>
  /** Sacks that currently hold at least one bundle. */
  sacksWithWork(): Promise<number[]>
  /**
   * Reads the pending bundles of a sack (all metrics, or only `metricIds`), concatenated per
   * metric in arrival order. Deleting is a separate step so that nothing is lost when
   * processing fails or the process dies in between.
   */
  readSack(sack: number, metricIds?: readonly string[]): Promise<PendingMeasures>
  /** Deletes exactly the bundles returned by `readSack` (not those that arrived since). */
  deleteProcessed(pending: PendingMeasures): Promise<void>
  /**
   * Optional, readSack of many sacks as one round of I/O: reads `sacks` in order and stops
   * after the sack that reaches `limits` (metrics or bytes), so the result is the pending
   * measures of a prefix of `sacks`, one entry per sack read (empty ones included).
   */
  readSacks?(
    sacks: readonly number[],
    limits: { readonly maxMetrics: number; readonly maxBytes: number },
  ): Promise<PendingMeasures[]>
  /** Optional, deleteProcessed of many sacks as one round of I/O. */
  deleteProcessedMany?(pendings: readonly PendingMeasures[]): Promise<void>
  hasUnprocessed(metricId: string): Promise<boolean>
  /** Drops every pending bundle of a metric (janitor expunge). */
  deleteAllMeasures(metricId: string): Promise<void>
  report(details: boolean): Promise<BacklogReport>
  /**
   * Optional (`[metricd] greedy`): calls `onWork` soon after any process, ours or upstream's,
   * adds measures, so that a metricd in another process need not wait for its next scan.
   * Resolves to the function that stops watching; rejects when the backend cannot notify.
   */
  watchForWork?(onWork: () => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

export interface PendingMeasures {
  readonly sack: number
  /** Metric id → concatenated bundle bytes (a multiple of 16 bytes unless corrupt). */
  readonly byMetric: ReadonlyMap<string, Uint8Array>
  /** Driver-private record of what was read, consumed by deleteProcessed. */
  readonly token: unknown
}

export interface BacklogReport {
  /** Metrics having bundles, and the number of bundles (not points). */
  readonly summary: { readonly metrics: number; readonly measures: number }
  readonly details?: ReadonlyMap<string, number>
}
