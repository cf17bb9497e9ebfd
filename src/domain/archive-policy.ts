/** One granularity of an archive policy. `points`/`timespanNs` are both null = keep forever. */
export interface ArchivePolicyItem {
  readonly granularityNs: bigint
  readonly points: number | null
  readonly timespanNs: bigint | null
}

export interface ArchivePolicy {
  readonly name: string
  readonly backWindow: number
  /** In the order given at creation (upstream returns it as stored). */
  readonly definition: readonly ArchivePolicyItem[]
  /** The resolved set of method names, as stored. */
  readonly aggregationMethods: readonly string[]
}

export interface ArchivePolicyRule {
  readonly name: string
  readonly metricPattern: string
  readonly archivePolicyName: string
}
