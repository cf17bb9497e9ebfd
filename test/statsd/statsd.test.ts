import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger } from '../../src/log/logger.ts'
import { parseStatsdLine, StatsdAggregator } from '../../src/statsd/statsd-aggregator.ts'
import { StatsdDaemon } from '../../src/statsd/statsd-daemon.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'

describe('statsd lines', () => {
  const f = (line: string, want: unknown) => assert.deepEqual(parseStatsdLine(line), want, line)
  test('parse', () => {
    f('a.b:1|c', { name: 'a.b', type: 'c', value: 1, sampling: null })
    f('t:2.5|ms', { name: 't', type: 'ms', value: 2.5, sampling: null })
    f('c:2|c|@0.2', { name: 'c', type: 'c', value: 2, sampling: 0.2 })
    f('g: -3e1 |g', { name: 'g', type: 'g', value: -30, sampling: null })
    f('nopipe', "Invalid number of | in `nopipe'")
    f('a:1|c|@1|x', "Invalid number of | in `a:1|c|@1|x'")
    f('a:b:1|c', "Invalid name:value in `a:b:1|c'")
    f('a:x|c', "Invalid value in `a:x|c'")
    f('a:1|c|@x', "Invalid sampling in `a:1|c|@x'")
  })
  test('aggregation as upstream: last gauge/timer, counters sum value * (1 / rate)', () => {
    const agg = new StatsdAggregator()
    const enc = (s: string) => new TextEncoder().encode(s)
    assert.deepEqual(agg.receive(enc('test_counter:1|c'), 1n), [])
    assert.deepEqual(agg.drain(), [['test_counter|c', { timestampNs: 1n, value: 1 }]])
    assert.deepEqual(agg.receive(enc('test_counter:45|c'), 2n), [])
    assert.deepEqual(agg.receive(enc('test_counter:2|c|@0.2\ng:1|g\ng:2|g\nt:3|ms\n\n'), 3n), [])
    assert.deepEqual(agg.drain(), [
      ['g|g', { timestampNs: 3n, value: 2 }],
      ['test_counter|c', { timestampNs: 3n, value: 55 }],
      ['t|ms', { timestampNs: 3n, value: 3 }],
    ])
    assert.deepEqual(agg.receive(enc('g:1|g|@0.5\ns:1|s\nc:1|c|@0\nok:1|c'), 4n), [
      'Unable to treat metric g:1|g|@0.5: Invalid sampling for g: `0`, should be none',
      "Unable to treat metric s:1|s: Unknown metric type `s'",
      'Unable to treat metric c:1|c|@0: float division by zero',
    ])
    assert.deepEqual(agg.receive(Uint8Array.of(0xff, 0xfe), 5n), [
      'Unable to decode datagram: not valid UTF-8',
    ])
    assert.deepEqual(agg.drain(), [['ok|c', { timestampNs: 4n, value: 1 }]])
  })
})

describe('gnocchi-statsd daemon over UDP', () => {
  let server: TestServer
  let daemon: StatsdDaemon
  const resourceId = '0a8b6a4e-4a52-4f3c-a5f0-5c2d0b8d8a11'
  const logs: string[] = []
  before(async () => {
    server = await startTestServer()
    const idx = server.running.runtime.indexer
    await idx.createArchivePolicy({
      name: 'statsd',
      backWindow: 0,
      definition: [{ granularityNs: 60_000_000_000n, points: 1440, timespanNs: 86_400_000_000_000n }],
      aggregationMethods: ['mean', 'sum', 'count'],
    })
    await idx.createArchivePolicyRule({ name: 'statsd', metricPattern: '*', archivePolicyName: 'statsd' })
    daemon = new StatsdDaemon(
      {
        indexer: idx,
        incoming: server.running.runtime.incoming,
        log: createLogger({ level: 'error', write: (l) => logs.push(l) }),
      },
      {
        host: '127.0.0.1',
        port: 0,
        resourceId,
        creator: 'statsd-user',
        archivePolicyName: null,
        flushDelayMs: 3_600_000,
      },
    )
    await daemon.start()
  })
  after(async () => {
    await daemon.stop()
    await server.stop()
  })

  async function send(...datagrams: (string | Uint8Array)[]) {
    const socket = createSocket('udp4')
    const { port } = daemon.address()
    const target = daemon.stats.datagrams + datagrams.length
    for (const d of datagrams)
      await new Promise<void>((res, rej) => socket.send(d, port, '127.0.0.1', (e) => (e ? rej(e) : res())))
    socket.close()
    for (let i = 0; i < 100 && daemon.stats.datagrams < target; i++) await sleep(10)
  }

  async function measures(name: string) {
    const metric = await server.running.runtime.indexer.getNamedMetric(resourceId, name)
    assert.ok(metric, `metric ${name}`)
    const res = await fetch(`${server.url}/v1/metric/${metric.id}/measures?refresh=true&aggregation=sum`, {
      headers: { authorization: 'basic YWRtaW46' },
    })
    return JSON.parse(await res.text()) as [string, number, number][]
  }

  test('resource created at start, garbage logged and dropped, counters summed per flush', async () => {
    const r = await server.running.runtime.indexer.getResource('generic', resourceId)
    assert.equal(r?.creator, 'statsd-user')
    await send(
      'test_counter:1|c\nbad line\n',
      Uint8Array.of(0xff, 0x00, 0x80),
      'gauge:3|g\ngauge:7|g\ntimer:12|ms\nset:1|s',
    )
    assert.equal(daemon.stats.droppedLines, 3)
    assert.equal(logs.length, 3)
    await daemon.flush()
    assert.equal((await measures('test_counter|c')).at(-1)?.[2], 1)
    assert.equal((await measures('gauge|g')).at(-1)?.[2], 7)
    assert.equal((await measures('timer|ms')).at(-1)?.[2], 12)
    await send('test_counter:45|c', 'test_counter:2|c|@0.2')
    await daemon.flush()
    const counter = await measures('test_counter|c')
    // Both flushes fall in the same or adjacent minutes: the sum over them is 1 + 55.
    assert.equal(
      counter.reduce((acc, row) => acc + row[2], 0),
      56,
    )
  })
})
