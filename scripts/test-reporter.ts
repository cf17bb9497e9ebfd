/**
 * node:test reporter for scripts/test.ts: one JSON line per skipped, todo or failed test or
 * suite, and the run's counts, so the summary can list them after the spec output.
 */
import { relative } from 'node:path'

interface TestEventData {
  readonly name: string
  readonly file?: string
  readonly line?: number
  readonly skip?: string | boolean
  readonly todo?: string | boolean
  readonly details?: {
    readonly type?: 'test' | 'suite'
    readonly error?: { readonly failureType?: string; readonly message?: string; readonly cause?: unknown }
  }
  readonly counts?: Record<string, number>
}

export interface ReportLine {
  readonly kind: 'skip' | 'todo' | 'fail' | 'counts'
  readonly file?: string
  readonly name?: string
  readonly suite?: boolean
  readonly reason?: string
  readonly counts?: Record<string, number>
}

const text = (v: string | boolean | undefined): string => (typeof v === 'string' ? v : '')

function firstLine(error: { message?: string; cause?: unknown } | undefined): string {
  const cause = error?.cause
  const message = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : error?.message
  return (message ?? '').split('\n')[0].slice(0, 300)
}

export default async function* testReporter(
  source: AsyncIterable<{ type: string; data: TestEventData }>,
): AsyncGenerator<string> {
  const line = (l: ReportLine) => `${JSON.stringify(l)}\n`
  for await (const { type, data } of source) {
    const file = data.file ? relative(process.cwd(), data.file) : undefined
    const suite = data.details?.type === 'suite'
    if (type === 'test:pass' && data.skip !== undefined) {
      yield line({ kind: 'skip', file, name: data.name, suite, reason: text(data.skip) })
    } else if (type === 'test:pass' && data.todo !== undefined) {
      yield line({ kind: 'todo', file, name: data.name, suite, reason: text(data.todo) })
    } else if (type === 'test:fail') {
      // A suite fails with its failing tests, and a cancelled test with its parent: list the cause only.
      const why = data.details?.error?.failureType
      if (why === 'subtestsFailed' || why === 'cancelledByParent') continue
      yield line({ kind: 'fail', file, name: data.name, suite, reason: firstLine(data.details?.error) })
    } else if (type === 'test:summary' && data.file === undefined && data.counts) {
      yield line({ kind: 'counts', counts: data.counts })
    }
  }
}
