/** f-tests for the pure modules of the HTTP layer. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseBasicAuthUser, splitCreator } from '../../src/api/auth.ts'
import { acceptableOffers, acceptsJson, mimeType } from '../../src/api/content-negotiation.ts'
import { HttpError, pyRepr, renderHttpError } from '../../src/api/errors.ts'
import { PolicyEnforcer, parseCheck } from '../../src/api/policy.ts'
import { hostUrl, pyQuote, pyUrlencode } from '../../src/api/proxy-headers.ts'
import { fnmatchToRegExp } from '../../src/api/routes/metric.ts'
import { all, coerceInt, length, listOf, object, range, str, validate } from '../../src/api/validation.ts'
import { encodeJson, pyFloat } from '../../src/compat/json.ts'
import { formatTimedelta, parseTimespanNs, pytimeparse } from '../../src/compat/timespan.ts'
import {
  formatIsoMicros,
  MeasureTimestampFormatter,
  parseIsoNs,
  parseTimestampsNs,
} from '../../src/compat/timestamp.ts'
import { parseUuid, resourceUuid } from '../../src/compat/uuid.ts'

const S = 1_000_000_000n

test('encodeJson: Python json.dumps bytes', () => {
  const f = (v: Parameters<typeof encodeJson>[0], want: string) => assert.equal(encodeJson(v), want)
  f({ name: 'medium', back_window: 0 }, '{"name": "medium", "back_window": 0}')
  f([1, 2.5, pyFloat(60), pyFloat(43.1)], '[1, 2.5, 60.0, 43.1]')
  f(pyFloat(137.70499999999998), '137.70499999999998')
  f(pyFloat(1e16), '1e+16')
  f(pyFloat(1.5e-5), '1.5e-05')
  f(pyFloat(Number.NaN), 'NaN')
  f(pyFloat(Number.NEGATIVE_INFINITY), '-Infinity')
  f('✔éñ☃', '"\\u2714\\u00e9\\u00f1\\u2603"')
  f('a"b\\c\n\u0001/<', '"a\\"b\\\\c\\n\\u0001/<"')
  f('😞', '"\\ud83d\\ude1e"')
  f([], '[]')
  f({}, '{}')
  f({ a: null, b: undefined, c: true }, '{"a": null, "c": true}')
})

test('pytimeparse and to_timespan', () => {
  const f = (s: string, want: number | undefined) => assert.equal(pytimeparse(s), want, s)
  f('1 second', 1)
  f('1s', 1)
  f('60 s', 60)
  f('5 minutes', 300)
  f('1 hour', 3600)
  f('7 day', 604800)
  f('1second', 1)
  f('1800s', 1800)
  f('0:01:01', 61)
  f('1:24', 84)
  f(':22', 22)
  f('1m24s', 84)
  f('1.2 minutes', 72)
  f('1.2 seconds', 1.2)
  f('- 1 minute', -60)
  f('-1h30m', -5400)
  f('+2hour', 7200)
  f('1 shenanigan', undefined)
  f('', undefined)
  const g = (v: unknown, want: bigint | string) => {
    if (typeof want === 'string') assert.throws(() => parseTimespanNs(v), { message: want })
    else assert.equal(parseTimespanNs(v), want)
  }
  g(1, S)
  g('0.2', 200_000_000n)
  g(0.2, 200_000_000n)
  g('1 minute', 60n * S)
  g('10s', 10n * S)
  g(0, 'Timespan must be positive')
  g('-5', 'Timespan must be positive')
  g('foobar', 'Unable to parse timespan')
  g(null, 'Invalid timespan')
  g([1], 'Unable to parse timespan')
})

test('formatTimedelta is Python str(timedelta)', () => {
  const f = (ns: bigint, want: string) => assert.equal(formatTimedelta(ns), want)
  f(60n * S, '0:01:00')
  f(7n * 86400n * S, '7 days, 0:00:00')
  f(86400n * S, '1 day, 0:00:00')
  f(3_600_000_000n, '0:00:03.600000')
  f(200_000_000n, '0:00:00.200000')
  f(3598n * S, '0:59:58')
  f(365n * 86400n * S, '365 days, 0:00:00')
  f(36000n * S, '10:00:00')
})

test('timestamps: numpy datetime64 strings, epoch, relative', () => {
  const now = () => 1_700_000_000n * S
  const iso = (s: string, want: string | undefined) => {
    const ns = parseIsoNs(s, now)
    assert.equal(ns === undefined ? undefined : formatIsoMicros(ns), want, s)
  }
  iso('2014', '2014-01-01T00:00:00+00:00')
  iso('2014-10', '2014-10-01T00:00:00+00:00')
  iso('2014-10-06T14', '2014-10-06T14:00:00+00:00')
  iso('2014-10-06 14:34:12', '2014-10-06T14:34:12+00:00')
  iso('2014-10-06T14:34:12.123456789', '2014-10-06T14:34:12.123456+00:00')
  iso('2015-03-06T14:34:00+12:00', '2015-03-06T02:34:00+00:00')
  iso('2015-03-06T14:34:00Z', '2015-03-06T14:34:00+00:00')
  iso('2016-02-29', '2016-02-29T00:00:00+00:00')
  iso('2015-02-29', undefined)
  iso('1915-100-06T14:33:57', undefined)
  iso('now', '2023-11-14T22:13:20+00:00')
  iso('today', '2023-11-14T00:00:00+00:00')
  const ts = (values: unknown[], want: bigint[] | string) => {
    if (typeof want === 'string') assert.throws(() => parseTimestampsNs(values, now), { message: want })
    else assert.deepEqual([...parseTimestampsNs(values, now)], want)
  }
  ts([1425652437.0, '1425652440', '1425652440.5'], [1425652437n * S, 1425652440n * S, 1425652440500000000n])
  ts(['-5 minutes', '10 minutes'], [now() - 300n * S, now() + 600n * S])
  ts([1478012832, '-5 minutes'], 'Unable to convert timestamps')
  ts(['1915-03-06T14:33:57'], 'Timestamp must be after Epoch')
  ts(['1915-100-06T14:33:57'], 'Unable to convert timestamps')
  assert.throws(() => parseTimestampsNs([null]), TypeError)
  const fmt = new MeasureTimestampFormatter()
  assert.equal(fmt.format(1425652437_900_000_000n), '2015-03-06T14:33:57+00:00')
  assert.equal(fmt.format(1425652800n * S), '2015-03-06T14:40:00+00:00')
  assert.equal(fmt.format(1425772800n * S), '2015-03-08T00:00:00+00:00')
})

test('validation messages are voluptuous messages', () => {
  const schema = object({
    name: { validator: str, required: true },
    definition: {
      required: true,
      validator: all(
        listOf(object({ points: { validator: all(coerceInt, range({ min: 1 })) } })),
        length<unknown[]>({ min: 1 }),
      ),
    },
    unit: { validator: all(str, length<string>({ max: 3 })) },
  })
  const f = (body: unknown, reason: string, detail: string[]) => {
    assert.throws(
      () => validate(schema, body),
      (e: unknown) => {
        assert.ok(e instanceof HttpError)
        assert.deepEqual(e.detail, { cause: 'Invalid input', reason, detail })
        return true
      },
    )
  }
  f({ cowsay: 1 }, "extra keys not allowed @ data['cowsay']", ['cowsay'])
  f({ name: 'x' }, "required key not provided @ data['definition']", ['definition'])
  f(
    { name: 'x', definition: [] },
    "length of value must be at least 1 for dictionary value @ data['definition']",
    ['definition'],
  )
  f({ name: 'x', definition: 'foo' }, "expected a list for dictionary value @ data['definition']", [
    'definition',
  ])
  f(
    { name: 'x', definition: [{ points: 0 }] },
    "value must be at least 1 for dictionary value @ data['definition'][0]['points']",
    ['definition', '0', 'points'],
  )
  f(
    { name: 'x', definition: [{ points: 'a' }] },
    "expected int for dictionary value @ data['definition'][0]['points']",
    ['definition', '0', 'points'],
  )
  f({ name: 'x', definition: [1] }, "expected a dictionary @ data['definition'][0]", ['definition', '0'])
  f({ name: 1, definition: [{}] }, "expected str for dictionary value @ data['name']", ['name'])
  f(
    { name: 'x', definition: [{}], unit: 'abcd' },
    "length of value must be at most 3 for dictionary value @ data['unit']",
    ['unit'],
  )
  f([], 'expected a dictionary', [])
})

test('policy: oslo.policy evaluation of the default rules', () => {
  const p = new PolicyEnforcer()
  const admin = { user: 'admin', roles: ['admin'] }
  const foo = { user: 'foo', roles: [] }
  const f = (rule: string, target: Record<string, unknown>, creds: typeof admin, want: boolean) =>
    assert.equal(p.enforce(rule, target, creds), want, `${rule} ${JSON.stringify(target)} ${creds.user}`)
  f('create archive policy', {}, admin, true)
  f('create archive policy', {}, foo, false)
  f('get status', {}, foo, false)
  f('list archive policy', {}, foo, true)
  f('get metric', { creator: 'foo', created_by_project_id: '' }, foo, true)
  f('get metric', { creator: 'bar', created_by_project_id: '' }, foo, false)
  f('delete metric', { creator: 'bar', created_by_project_id: '' }, admin, true)
  f(
    'get measures',
    { creator: 'bar', 'resource.project_id': 'p' },
    { user: 'x', roles: [], project_id: 'p' } as never,
    true,
  )
  f('no such rule', {}, admin, false)
  assert.deepEqual(parseCheck(''), { kind: 'true' })
  const custom = new PolicyEnforcer({ r: 'not (role:a or role:b) and @' })
  assert.equal(custom.enforce('r', {}, { roles: ['c'] }), true)
  assert.equal(custom.enforce('r', {}, { roles: ['B'] }), false)
})

test('content negotiation: webob acceptable_offers', () => {
  const f = (accept: string | undefined, want: string[]) =>
    assert.deepEqual(acceptableOffers(accept, ['text/plain', 'text/html', 'application/json']), want, accept)
  f(undefined, ['text/plain', 'text/html', 'application/json'])
  f('*/*', ['text/plain', 'text/html', 'application/json'])
  f('application/json', ['application/json'])
  f('text/plain, application/json; q=0.8', ['text/plain', 'application/json'])
  f('text/*;q=0.5, application/json', ['application/json', 'text/plain', 'text/html'])
  f('application/json;q=0', [])
  f('', [])
  assert.equal(acceptsJson('text/plain'), false)
  assert.equal(acceptsJson('text/html'), false)
  assert.equal(acceptsJson('text/plain, application/json; q=0.8'), true)
  assert.equal(acceptsJson(undefined), true)
  assert.equal(mimeType('Application/JSON; charset=utf-8'), 'application/json')
})

test('error bodies: pecan JSON, webob html and text', () => {
  const err = new HttpError(404, 'Archive policy ✔ does not exist')
  const json = renderHttpError(err, { method: 'GET', accept: 'application/json', contentType: undefined })
  assert.equal(
    json.body,
    '{"code": 404, "title": "Not Found", "description": "Archive policy \\u2714 does not exist"}',
  )
  const text = renderHttpError(err, { method: 'GET', accept: undefined, contentType: undefined })
  assert.equal(
    text.body,
    '404 Not Found\n\nThe resource could not be found.\n\n Archive policy ✔ does not exist  ',
  )
  assert.equal(text.headers['content-type'], 'text/plain; charset=UTF-8')
  const html = renderHttpError(err, { method: 'GET', accept: '*/*', contentType: undefined })
  assert.match(html.body, /Archive policy &#10004; does not exist/)
  const m405 = renderHttpError(new HttpError(405, '', { allow: 'GET, POST' }), {
    method: 'PUT',
    accept: 'application/json',
    contentType: undefined,
  })
  assert.equal(m405.body, '{"code": 405, "title": "Method Not Allowed", "description": ""}')
  assert.equal(m405.headers.allow, 'GET, POST')
  assert.equal(
    pyRepr({ cause: 'x', detail: [], reason: "it's" }),
    `{'cause': 'x', 'detail': [], 'reason': "it's"}`,
  )
})

test('auth, ids, urls', () => {
  assert.equal(parseBasicAuthUser('basic YWRtaW46'), 'admin')
  assert.equal(parseBasicAuthUser('Basic Zm9vYmFyOg=='), 'foobar')
  assert.equal(parseBasicAuthUser(''), undefined)
  assert.equal(parseBasicAuthUser('basic !!!'), undefined)
  assert.equal(parseBasicAuthUser('basic YWRtaW4='), undefined)
  assert.deepEqual(splitCreator('u:p'), { userId: 'u', projectId: 'p' })
  assert.deepEqual(splitCreator('u'), { userId: 'u', projectId: '' })
  assert.equal(resourceUuid('foo', 'bar'), 'ba571521-1de6-5aff-b183-1535fd6eb5d0')
  assert.equal(resourceUuid('foo', null), '4efb21f6-3d19-5fe3-910b-be8f0f727846')
  assert.equal(resourceUuid('1.2.3.4', 'foobar'), 'a9c729cc-d1b0-5e6b-b5ba-8b5a7f45f1fc')
  assert.equal(parseUuid('{85C44741CC604033804E2D3098C7D2E9}'), '85c44741-cc60-4033-804e-2d3098c7d2e9')
  assert.equal(parseUuid('foobar'), undefined)
  assert.equal(pyQuote('/v1/archive_policy/✔éñ☃'), '/v1/archive_policy/%E2%9C%94%C3%A9%C3%B1%E2%98%83')
  assert.equal(
    pyUrlencode([
      ['limit', 2],
      ['sort', ['name:desc', 'id:asc']],
    ]),
    'limit=2&sort=name%3Adesc&sort=id%3Aasc',
  )
  assert.equal(
    hostUrl({ scheme: 'http', host: 'foobar:80', remoteAddr: '', scriptPrefix: '' }),
    'http://foobar',
  )
  const glob = (p: string, s: string, want: boolean) =>
    assert.equal(fnmatchToRegExp(p).test(s), want, `${p} ${s}`)
  glob('*', '', true)
  glob('disk.*', 'disk.io', true)
  glob('disk.*', 'Disk.io', false)
  glob('disk.?', 'disk.ab', false)
  glob('[!a]x', 'bx', true)
  glob('[', '[', true)
})
