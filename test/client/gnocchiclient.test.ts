/**
 * Debian's `gnocchi` CLI (python3-gnocchiclient) against our server: the client must work
 * unchanged. Skipped only when `gnocchi` is not on PATH (a failure when CI is set).
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startTestServer, type TestServer } from '../api/_harness.ts'
import { gnocchiOn, skip } from './_gnocchi-cli.ts'

let server: TestServer

const gnocchi = (...args: string[]): Promise<string> => gnocchiOn(server, ...args)

async function gnocchiJson<T>(...args: string[]): Promise<T> {
  return JSON.parse(await gnocchi(...args, '-f', 'json')) as T
}

async function gnocchiFails(...args: string[]): Promise<string> {
  try {
    await gnocchi(...args)
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e)
  }
  assert.fail(`gnocchi ${args.join(' ')} should have failed`)
}

before(async () => {
  if (!skip) server = await startTestServer()
})
after(async () => {
  await server?.stop()
})

test('archive policies', { skip }, async () => {
  type Ap = { name: string; back_window: number; definition: Array<Record<string, unknown>> }
  const ap = await gnocchiJson<Ap>(
    'archive-policy',
    'create',
    '-d',
    'granularity:1s,points:3600',
    '-d',
    'granularity:1m,points:1440',
    '-m',
    'mean',
    '-m',
    'max',
    'cli1',
  )
  assert.equal(ap.name, 'cli1')
  assert.deepEqual(ap.definition[1], { timespan: '1 day, 0:00:00', granularity: '0:01:00', points: 1440 })
  const list = await gnocchiJson<Array<{ name: string }>>('archive-policy', 'list')
  assert.deepEqual(
    list.map((x) => x.name),
    ['cli1'],
  )
  const shown = await gnocchiJson<Ap>('archive-policy', 'show', 'cli1')
  assert.equal(shown.back_window, 0)
  const updated = await gnocchiJson<Ap>(
    'archive-policy',
    'update',
    '-d',
    'granularity:1s,points:7200',
    '-d',
    'granularity:1m,points:1440',
    'cli1',
  )
  assert.deepEqual(updated.definition[0], { timespan: '2:00:00', granularity: '0:00:01', points: 7200 })
  assert.match(
    await gnocchiFails('archive-policy', 'show', 'nope'),
    /Archive policy nope does not exist \(HTTP 404\)/,
  )
  await gnocchi('archive-policy', 'create', '-d', 'granularity:1h,points:2', 'tmp')
  await gnocchi('archive-policy', 'delete', 'tmp')
  assert.match(await gnocchiFails('archive-policy', 'delete', 'tmp'), /HTTP 404/)
})

test('archive policy rules', { skip }, async () => {
  const rule = await gnocchiJson<Record<string, string>>(
    'archive-policy-rule',
    'create',
    '-a',
    'cli1',
    '-m',
    'cli.*',
    'r1',
  )
  assert.equal(rule.metric_pattern, 'cli.*')
  const renamed = await gnocchiJson<Record<string, string>>('archive-policy-rule', 'update', 'r1', '-n', 'r2')
  assert.equal(renamed.name, 'r2')
  const rules = await gnocchiJson<Array<{ name: string }>>('archive-policy-rule', 'list')
  assert.deepEqual(
    rules.map((r) => r.name),
    ['r2'],
  )
})

test('metrics, measures and status', { skip }, async () => {
  const m = await gnocchiJson<Record<string, string>>('metric', 'create', '--unit', 'B', 'cli.m')
  assert.equal(m['archive_policy/name'] ?? m.archive_policy_name, 'cli1')
  const shown = await gnocchiJson<Record<string, string>>('metric', 'show', m.id)
  assert.equal(shown.name, 'cli.m')
  const list = await gnocchiJson<Array<{ id: string }>>('metric', 'list')
  assert.ok(list.some((x) => x.id === m.id))
  await gnocchi('measures', 'add', '-m', '2024-01-01T12:00:00@10', '-m', '2024-01-01T12:00:01@20', m.id)
  const measures = await gnocchiJson<Array<{ timestamp: string; granularity: number; value: number }>>(
    'measures',
    'show',
    '--refresh',
    m.id,
  )
  assert.deepEqual(measures, [
    { timestamp: '2024-01-01T12:00:00+00:00', granularity: 60.0, value: 15.0 },
    { timestamp: '2024-01-01T12:00:00+00:00', granularity: 1.0, value: 10.0 },
    { timestamp: '2024-01-01T12:00:01+00:00', granularity: 1.0, value: 20.0 },
  ])
  const max = await gnocchiJson<Array<{ value: number }>>(
    'measures',
    'show',
    '--aggregation',
    'max',
    '--granularity',
    '60',
    '--start',
    '2024-01-01',
    m.id,
  )
  assert.deepEqual(
    max.map((x) => x.value),
    [20.0],
  )
  const status = await gnocchiJson<Record<string, unknown>>('status')
  assert.equal(status['storage/total number of measures to process'], 0)
  await gnocchi('metric', 'delete', m.id)
  assert.match(await gnocchiFails('metric', 'show', m.id), /does not exist \(HTTP 404\)/)
  assert.match(await gnocchiFails('archive-policy', 'delete', 'cli1'), /still in use \(HTTP 400\)/)
})

test('measures add …@nan / @inf: stored and shown as upstream does', { skip }, async () => {
  // The client sends `float(value)` through ujson: bare NaN / Infinity tokens.
  const m = await gnocchiJson<Record<string, string>>(
    'metric',
    'create',
    '--archive-policy-name',
    'cli1',
    'cli.nan',
  )
  await gnocchi('measures', 'add', '-m', '2024-01-01T12:00:00@nan', '-m', '2024-01-01T12:00:01@inf', m.id)
  await gnocchi('measures', 'add', '-m', '2024-01-01T12:00:02@-inf', '-m', '2024-01-01T12:00:03@4', m.id)
  const csv = await gnocchi('measures', 'show', '--refresh', '--granularity', '1', '-f', 'csv', m.id)
  assert.deepEqual(csv.trim().split('\n').slice(1), [
    '"2024-01-01T12:00:00+00:00",1.0,nan',
    '"2024-01-01T12:00:01+00:00",1.0,inf',
    '"2024-01-01T12:00:02+00:00",1.0,-inf',
    '"2024-01-01T12:00:03+00:00",1.0,4.0',
  ])
})
