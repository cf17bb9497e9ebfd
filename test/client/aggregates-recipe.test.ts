/**
 * The CPU-utilisation recipe of ../shared/seeds/gnocchi-aggregation-article.txt end to end
 * through Debian's `gnocchi` CLI (python3-gnocchiclient): a cumulative `cpu` metric in
 * nanoseconds (Ceilometer style, one sample a minute, `medium`-like policy), then
 *   gnocchi aggregates '(metric cpu mean)'                          — the stored data
 *   gnocchi aggregates '(aggregate rate:mean (metric cpu mean))'    — CPU time per interval
 *   gnocchi aggregates '(* (/ (aggregate rate:mean (metric cpu mean)) 60000000000.0) 100)'
 *                                                                  — CPU utilisation in %
 * once with the metric id (metric-id mode) and once as in the article, by metric name with a
 * resource search `id=<instance>` (resource mode, the client's string search).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestServer, type TestServer } from '../api/_harness.ts'
import { gnocchiOn, skip } from './_gnocchi-cli.ts'

let server: TestServer

const gnocchi = (...args: string[]): Promise<string> => gnocchiOn(server, ...args)

type Row = { name: string; timestamp: string; granularity: number; value: number }

async function aggregates(...args: string[]): Promise<Row[]> {
  return JSON.parse(await gnocchi('aggregates', ...args, '-f', 'json')) as Row[]
}

// Cumulative CPU time of an instance, one sample a minute (the article's 12:05 → 12:06 shape).
const START = Date.UTC(2019, 4, 20, 12, 5, 0) / 1000
const USED_NS_PER_MINUTE = [120e9, 13.61e9, 30e9, 60e9, 45e9, 6e9]
const samples: Array<[string, number]> = []
{
  let total = 3_152_710_000_000
  samples.push([new Date(START * 1000).toISOString(), total])
  USED_NS_PER_MINUTE.forEach((used, i) => {
    total += used
    samples.push([new Date((START + (i + 1) * 60) * 1000).toISOString(), total])
  })
}

before(async () => {
  if (skip) return
  server = await startTestServer()
  await gnocchi(
    'archive-policy',
    'create',
    '-d',
    'granularity:1m,points:10080',
    '-d',
    'granularity:1h,points:8760',
    ...['std', 'count', 'min', 'max', 'sum', 'mean'].flatMap((m) => ['-m', m]),
    'medium',
  )
})
after(async () => {
  await server?.stop()
})

async function checkRecipe(operation: (inner: string) => string, search: string[]): Promise<void> {
  const raw = await aggregates('--granularity', '60', operation('(metric %M mean)'), ...search)
  assert.deepEqual(
    raw.map((r) => [r.timestamp.slice(0, 19), r.value]),
    samples.map(([ts, v]) => [ts.slice(0, 19), v]),
  )
  const rate = await aggregates(
    '--granularity',
    '60',
    operation('(aggregate rate:mean (metric %M mean))'),
    ...search,
  )
  assert.deepEqual(
    rate.map((r) => [r.name, r.value]),
    USED_NS_PER_MINUTE.map((v) => ['aggregated', v]),
  )
  const percent = await aggregates(
    '--granularity',
    '60',
    operation('(* (/ (aggregate rate:mean (metric %M mean)) 60000000000.0) 100)'),
    ...search,
  )
  assert.deepEqual(
    percent.map((r) => [r.timestamp.slice(0, 19), Math.round(r.value * 1e6) / 1e6]),
    USED_NS_PER_MINUTE.map((v, i) => [
      new Date((START + (i + 1) * 60) * 1000).toISOString().slice(0, 19),
      Math.round((v / 60e9) * 100 * 1e6) / 1e6,
    ]),
  )
  for (const r of percent) assert.equal(r.granularity, 60.0)
}

test('CPU utilisation by metric id', { skip }, async () => {
  const metric = JSON.parse(
    await gnocchi('metric', 'create', '-a', 'medium', '-u', 'ns', 'cpu', '-f', 'json'),
  ) as {
    id: string
  }
  await gnocchi('measures', 'add', ...samples.flatMap(([ts, v]) => ['-m', `${ts}@${v}`]), metric.id)
  const shown = JSON.parse(
    await gnocchi('measures', 'show', '--refresh', '--granularity', '60', metric.id, '-f', 'json'),
  )
  assert.equal(shown.length, samples.length)
  await checkRecipe((op) => op.replace('%M', metric.id), [])
})

test('CPU utilisation as in the article: metric name + resource search', { skip }, async () => {
  const instance = '6d5f3b87-0c1c-4a5b-9f3e-2c8b4f0f7d11'
  const created = JSON.parse(
    await gnocchi('resource', 'create', '--type', 'generic', '-n', 'cpu:medium', instance, '-f', 'json'),
  ) as { metrics: Record<string, string> }
  await gnocchi('measures', 'add', ...samples.flatMap(([ts, v]) => ['-m', `${ts}@${v}`]), created.metrics.cpu)
  await gnocchi('measures', 'show', '--refresh', created.metrics.cpu)
  await checkRecipe((op) => op.replace('%M', 'cpu'), [`id=${instance}`])
  // Resource mode output is keyed by resource and metric name: "<resource id>/cpu/mean".
  const raw = await aggregates('--granularity', '60', '(metric cpu mean)', `id=${instance}`)
  assert.equal(raw[0].name, `${instance}/cpu/mean`)
})
