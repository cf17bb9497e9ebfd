import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decodeBundle } from '../incoming/bundle.ts'
import { LineProtocolError } from './errors.ts'
import { parseCreateDatabase, parseLine, parseLineProtocol } from './line-protocol.ts'

type Expected = [string, Record<string, string>, Record<string, number | string>, bigint | null]

function f(line: string, want: Expected | undefined) {
  const got = parseLine(line)
  if (want === undefined) {
    assert.equal(got, undefined, `${line} should not parse`)
    return
  }
  assert.ok(got, `${line} should parse`)
  assert.deepEqual(
    [got.measurement, Object.fromEntries(got.tags), Object.fromEntries(got.fields), got.timestamp],
    want,
    line,
  )
}

describe('parseLine (upstream test_influxdb.py cases)', () => {
  test('ok', () => {
    f(
      'cpu,cpu=cpu2,host=abydos usage_system=11.1,usage_idle=73.2,usage_nice=0,usage_iowait=0 1510150170000000000',
      [
        'cpu',
        { cpu: 'cpu2', host: 'abydos' },
        { usage_system: 11.1, usage_idle: 73.2, usage_nice: 0, usage_iowait: 0 },
        1510150170000000000n,
      ],
    )
    f(
      'disk,path=/,device=disk1s1,fstype=apfs,host=abydos total=250140434432i,inodes_total=9223372036854775807i,used_percent=88.19130621205531 1510150170000000000',
      [
        'disk',
        { path: '/', device: 'disk1s1', fstype: 'apfs', host: 'abydos' },
        { total: 250140434432, inodes_total: 2 ** 63, used_percent: 88.19130621205531 },
        1510150170000000000n,
      ],
    )
    f('swap,host=abydos in=0i,out=0i 1510150170000000000', [
      'swap',
      { host: 'abydos' },
      { in: 0, out: 0 },
      1510150170000000000n,
    ])
    f('system,host=abydos uptime=337369i,uptime_format="3 days, 21:42" 1510150170000000000', [
      'system',
      { host: 'abydos' },
      { uptime: 337369, uptime_format: '3 days, 21:42' },
      1510150170000000000n,
    ])
    f('notag up=1 123234', ['notag', {}, { up: 1 }, 123234n])
    f('notag up=3 ', ['notag', {}, { up: 3 }, null])
  })
  test('fail', () => {
    for (const line of [
      'measurement, field=1',
      'measurement, field=1 123',
      'measurement,tag=value 123',
      'measurement,tag=value , 123',
      ',tag=value 123',
      'foobar,tag=value field=string 123',
      'm f=true',
      'm f=T 1',
      'm',
      'm ',
      '',
      'm f=',
      'm f="unterminated',
      'm f=1:.5',
    ]) {
      f(line, undefined)
    }
  })
  test('escapes, quoting and what follows the longest match', () => {
    f('my\\ m\\,x,t\\=k=v\\ 1 f\\ x=1', ['my m,x', { 't=k': 'v 1' }, { 'f x': 1 }, null])
    f('a\\b f=1', ['a\\b', {}, { f: 1 }, null])
    f('"quo ted",t="a b" "f"="x\\"y\\tz"', ['quo ted', { t: 'a b' }, { f: 'x"y\tz' }, null])
    f('m f=1,g=-2.5e3,h=+4.,i=5e 7', ['m', {}, { f: 1, g: -2500, h: 4, i: 5 }, null])
    f('m f=1 -5', ['m', {}, { f: 1 }, null])
    f('m f=1 12abc', ['m', {}, { f: 1 }, 12n])
    f('m f=1,garbage 9', ['m', {}, { f: 1 }, null])
    f('m,t=1,t=2 f=1,f=2', ['m', { t: '2' }, { f: 2 }, null])
    f('m,a="x"b=y f=1', ['m', { a: 'x', b: 'y' }, { f: 1 }, null])
    f('m f=-3i', ['m', {}, { f: -3 }, null]) // `-3` is a float, the `i` is ignored (upstream)
  })
})

describe('parseLineProtocol', () => {
  const now = 1_000_000_000_000_000_000n
  test('metric names, resource tag, timestamps', () => {
    const out = parseLineProtocol(
      Buffer.from(
        'mymetric,host=foobar,mytag=myvalue field=123 1510581804179554816\n\ncpu,path=/foobar,mytag=myvalue field=43i,s="x"\nnotag,mytag=v up=1',
      ),
      { tagResourceId: 'mytag', nowNs: now },
    )
    assert.deepEqual([...out.keys()], ['myvalue', 'v'])
    const myvalue = out.get('myvalue')!
    assert.deepEqual([...myvalue.keys()], ['mymetric.field@host=foobar', 'cpu.field@path=_foobar'])
    assert.deepEqual(decodeBundle(myvalue.get('mymetric.field@host=foobar')!.bundle()), {
      timestamps: BigInt64Array.of(1510581804179554816n),
      values: Float64Array.of(123),
    })
    assert.deepEqual(decodeBundle(myvalue.get('cpu.field@path=_foobar')!.bundle()), {
      timestamps: BigInt64Array.of(now),
      values: Float64Array.of(43),
    })
    assert.deepEqual([...out.get('v')!.keys()], ['notag.up'])
  })
  test('precision', () => {
    const out = parseLineProtocol(Buffer.from('m,host=h f=1 1510581804'), {
      tagResourceId: 'host',
      nowNs: now,
      precisionNs: 1_000_000_000n,
    })
    assert.equal(decodeBundle(out.get('h')!.get('m.f')!.bundle()).timestamps[0], 1510581804000000000n)
  })
  test('errors carry the line number, or the missing key', () => {
    const err = (body: string | Uint8Array, tag = 'host') => {
      try {
        parseLineProtocol(typeof body === 'string' ? Buffer.from(body) : body, {
          tagResourceId: tag,
          nowNs: now,
        })
      } catch (e) {
        assert.ok(e instanceof LineProtocolError)
        return [e.detail, e.reason]
      }
      assert.fail('no error')
    }
    assert.deepEqual(err('m,host=a f=1\n\nbad'), ['line', 'Unable to parse line 3'])
    assert.deepEqual(err('m,host=a f=1\nm f=1'), ['key', "Unable to find key `host' in tags"])
    assert.deepEqual(err('m,mytag=a f=1', 'mytag\u00e9'), ['key', "Unable to find key `mytag\u00e9' in tags"])
    assert.deepEqual(err(Buffer.concat([Buffer.from('m,host=a f=1\n'), Buffer.from([0xff, 0x0a])])), [
      'line',
      'Unable to parse line 2',
    ])
    assert.deepEqual(err('m,host=a f=1 99999999999999999999'), ['line', 'Unable to parse line 1'])
  })
})

describe('parseCreateDatabase (upstream query parser cases)', () => {
  test('ok', () => {
    for (const q of [
      'CREATE DATABASE foobar;',
      'CREATE DATABASE foobar  ;',
      'CREATE DATABASE foobar  ;;;',
      'CrEaTe   Database foobar',
      'create Database    foobar',
      'createdatabase foobar',
      'create database foobar-x',
    ]) {
      assert.equal(parseCreateDatabase(q), 'foobar', q)
    }
    assert.equal(parseCreateDatabase('create database "a \\"b"'), 'a "b')
  })
  test('fail', () => {
    for (const q of [
      'SELECT',
      'hey yo foobar;',
      'help database foobar;',
      'something weird',
      'create stuff foobar',
      'create databasefoo',
      'create database 1x',
    ]) {
      assert.equal(parseCreateDatabase(q), undefined, q)
    }
  })
})
