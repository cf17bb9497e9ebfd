export type MetricStatus = 'active' | 'delete'

export interface Metric {
  /** Lowercase hyphenated UUID. */
  readonly id: string
  readonly archivePolicyName: string
  readonly creator: string | null
  readonly resourceId: string | null
  readonly name: string | null
  readonly unit: string | null
  readonly status: MetricStatus
  readonly needsRawDataTruncation: boolean
}

export interface NewMetric {
  readonly id: string
  readonly archivePolicyName: string
  readonly creator: string | null
  readonly resourceId: string | null
  readonly name: string | null
  readonly unit: string | null
}
