/**
 * Captures the error answers (status ≥ 300) of a broad, deterministic request set: targeted
 * requests for errors the others rarely reach and the hostile inputs of
 * test/api/_hostile-cases.ts, each under four Accept headers, then seeded fuzz requests
 * (test/reliability/fuzz/) sent one at a time. Ids the server makes up are normalised, so two
 * captures of the same code are identical: the regression net for changes to the error path.
 *
 *   node scripts/error-capture.ts before.json   # …change the code…
 *   node scripts/error-capture.ts after.json && diff before.json after.json
 */
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { ADMIN, startTestServer } from '../test/api/_harness.ts'
import { CASES, MID } from '../test/api/_hostile-cases.ts'
import { ensureFixtures } from '../test/reliability/fuzz/fixtures.ts'
import { type FuzzRequest, makeRequest, routeMethods } from '../test/reliability/fuzz/requests.ts'
import { fill, TARGETED } from './error-capture-cases.ts'

const out = process.argv[2] ?? 'error-capture.json'
const perSeed = Number(process.env.CAPTURE_COUNT ?? 3000)
const SEEDS = [17, 4242]
const ACCEPTS = [undefined, 'application/json', 'text/html', 'text/plain']
const KEPT_HEADERS = ['content-type', 'allow', 'location', 'retry-after', 'www-authenticate']

const server = await startTestServer({ maxLimit: 1000 })
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

function headerSafe(v: string): string {
  return Buffer.from(v, 'utf8')
    .toString('latin1')
    .replace(/./gs, (c) => ((c.charCodeAt(0) < 0x20 && c !== '\t') || c === '\x7f' ? '?' : c))
}

interface Answer {
  status: number | string
  headers: Record<string, string>
  body: string
}

function send(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array) {
  return new Promise<Answer>((resolve) => {
    const h: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) h[k] = headerSafe(v)
    if (body !== undefined) h['content-length'] = String(Buffer.byteLength(body))
    let cr: http.ClientRequest
    try {
      cr = http.request({ agent, host: '127.0.0.1', port: server.port, method, path, headers: h })
    } catch (e) {
      resolve({ status: 'refused', headers: {}, body: (e as Error).message })
      return
    }
    cr.setTimeout(30_000, () => cr.destroy(new Error('timeout')))
    cr.on('error', (e) => resolve({ status: 'error', headers: {}, body: (e as Error).message }))
    cr.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const kept: Record<string, string> = {}
        for (const k of KEPT_HEADERS) {
          const v = res.headers[k]
          if (v !== undefined) kept[k] = normalise(String(v))
        }
        resolve({ status: res.statusCode ?? 0, headers: kept, body: Buffer.concat(chunks).toString('utf8') })
      })
    })
    cr.end(body)
  })
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?/g
function normalise(s: string): string {
  return s
    .replace(/127\.0\.0\.1:\d+/g, '<host>')
    .replace(UUID, '<uuid>')
    .replace(/\b[0-9a-f]{8}\b/g, '<id8>')
    .replace(/fz-original-\d+/g, 'fz-original-<n>')
    .replace(TIMESTAMP, '<ts>')
}

const entries: Array<Record<string, unknown>> = []
function keep(label: string, a: Answer) {
  if (typeof a.status === 'number' && a.status < 300) return
  entries.push({ label, status: a.status, headers: a.headers, body: normalise(a.body) })
}

const call = async (method: string, path: string, body: unknown, auth: string) => {
  const a = await send(
    method,
    path,
    {
      authorization: auth,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body === undefined ? undefined : JSON.stringify(body),
  )
  let json: unknown = a.body
  try {
    json = JSON.parse(a.body)
  } catch {}
  return { status: typeof a.status === 'number' ? a.status : 0, json }
}

try {
  let fixtures = await ensureFixtures(call)
  const mid = fixtures.metrics[0] ?? ''
  await call(
    'POST',
    '/v1/resource/generic',
    { id: 'fz-res-taken', metrics: { cpu: { archive_policy_name: 'low' } } },
    ADMIN,
  )
  for (const t of TARGETED) {
    for (const accept of ACCEPTS) {
      const headers: Record<string, string> = { ...t.headers }
      if (t.auth !== '') headers.authorization = t.auth ?? ADMIN
      if (accept && !headers.accept) headers.accept = accept
      let body = t.raw
      if (t.body !== undefined) {
        body = fill(JSON.stringify(t.body), fixtures.metrics)
        headers['content-type'] ??= 'application/json'
      }
      keep(
        `${t.name} [${accept ?? '-'}]`,
        await send(t.method, fill(t.path, fixtures.metrics), headers, body),
      )
    }
  }
  for (const c of CASES) {
    for (const accept of ACCEPTS) {
      const headers: Record<string, string> = { authorization: c.auth ?? ADMIN }
      if (accept) headers.accept = accept
      const body = c.body === undefined ? undefined : JSON.stringify(c.body).replaceAll(MID, mid)
      if (body !== undefined) headers['content-type'] = 'application/json'
      keep(`${c.name} [${accept ?? '-'}]`, await send(c.method, c.path.replaceAll(MID, mid), headers, body))
    }
  }
  const table = routeMethods()
  for (const seed of SEEDS) {
    for (let i = 0; i < perSeed; i++) {
      const req: FuzzRequest = makeRequest(seed, i, table, fixtures)
      keep(`fuzz ${seed}/${i} ${req.route}`, await send(req.method, req.path, req.headers, req.body))
      if (i % 500 === 499) fixtures = await ensureFixtures(call, fixtures)
    }
  }
} finally {
  agent.destroy()
  await server.stop()
}
writeFileSync(out, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`)
process.stderr.write(`${entries.length} error answers written to ${out}\n`)
