import { randomUUID } from 'node:crypto'
import type { Metric } from '../metric.ts'

/** A fresh active metric record of `archivePolicyName`, owned by admin, for storage tests. */
export function testMetric(archivePolicyName: string): Metric {
  return {
    id: randomUUID(),
    archivePolicyName,
    creator: 'admin',
    resourceId: null,
    name: null,
    unit: null,
    status: 'active',
    needsRawDataTruncation: true,
  }
}
