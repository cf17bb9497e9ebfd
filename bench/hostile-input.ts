/**
 * Time to answer hostile nesting (issue #17 item 3) through the test harness (embedded
 * backends), and the cost of the body depth check on the generic JSON path:
 *
 *   node bench/hostile-input.ts
 *
 * Prints the depth scan against `JSON.parse` + `bundleFromJsonMeasures` for an 8 MB measures
 * body the byte scanner declines, then status and median wall time of 5 requests per case.
 */

import { nestedDeeperThan } from '../src/compat/py-json.ts'
import { bundleFromJsonMeasures } from '../src/ingest/json-measures.ts'
import { request, startTestServer } from '../test/api/_harness.ts'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const N = 100_000

const text = JSON.stringify(
  Array.from({ length: 200_000 }, (_, i) => ({ timestamp: String(1.7e9 + i), value: i / 2 })),
)
const bytes = Buffer.from(text)
const generic: number[] = []
const scan: number[] = []
for (let i = 0; i < 7; i++) {
  let t = performance.now()
  bundleFromJsonMeasures(JSON.parse(text))
  generic.push(performance.now() - t)
  t = performance.now()
  nestedDeeperThan(bytes, 1024)
  scan.push(performance.now() - t)
}
console.log(
  `${(text.length / 1e6).toFixed(1)} MB measures body: generic path ${median(generic).toFixed(1)} ms, depth scan ${median(scan).toFixed(1)} ms`,
)

const server = await startTestServer()
try {
  // Under the body decoder's 1024 levels, so that the operations limit answers.
  const ops = `${'["abs", '.repeat(1000)}["metric", "x", "mean"]${']'.repeat(1000)}`
  const filter = encodeURIComponent(`${'('.repeat(2000)}id = 'x'${')'.repeat(2000)}`)
  const cases: Array<[string, string, string, { raw?: string; body?: unknown }]> = [
    ['operations list 1000 deep', 'POST', '/v1/aggregates', { raw: `{"operations": ${ops}}` }],
    [
      `operations string ${N} deep`,
      'POST',
      '/v1/aggregates',
      { body: { operations: `${'(abs '.repeat(N)}(metric x mean)${')'.repeat(N)}` } },
    ],
    [`body of ${N} '['`, 'POST', '/v1/aggregates', { raw: `${'['.repeat(N)}${']'.repeat(N)}` }],
    ['string filter 2000 parentheses', 'POST', `/v1/search/resource/generic?filter=${filter}`, {}],
  ]
  for (const [label, method, path, options] of cases) {
    const times: number[] = []
    let status = 0
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      status = (await request(server, method, path, options)).status
      times.push(performance.now() - t)
    }
    console.log(`${label}: ${status} in ${median(times).toFixed(1)} ms`)
  }
} finally {
  await server.stop()
}
