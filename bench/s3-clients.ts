/**
 * S3 clients for small objects, on the same server (issue #20: the SDK against a thin signer):
 * our S3Client (src/objstore: SigV4 by hand over node:http keep-alive), `@aws-sdk/client-s3`
 * (v3, its own node:http handler, keep-alive, the same pool size) and `aws4fetch` (SigV4 over
 * the global fetch, i.e. undici). Each client, in turn, PUTs `--objects` objects of `--size`
 * bytes, GETs them, LISTs them (pages of 1000) and deletes them (one DELETE each, then the same
 * with DeleteObjects by the 1000 for ours and the SDK), `--concurrency` in flight.
 * CPU = process.cpuUsage of this process (user + system) per request; the server's is not counted.
 *
 * Run: node bench/s3-clients.ts [--objects 2000] [--size 1024] [--concurrency 16]
 *        [--endpoint http://127.0.0.1:8080] [--rounds 2]   (npm run bench -- --s3-clients)
 */
import { createHash, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client as SdkClient,
} from '@aws-sdk/client-s3'
import { AwsClient } from 'aws4fetch'
import { mapLimit } from '../src/compat/map-limit.ts'
import { S3Client } from '../src/objstore/s3-client.ts'

const { values: v } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--s3-clients'),
  options: {
    objects: { type: 'string', default: '2000' },
    size: { type: 'string', default: '1024' },
    concurrency: { type: 'string', default: '16' },
    endpoint: { type: 'string', default: 'http://127.0.0.1:8080' },
    rounds: { type: 'string', default: '2' },
  },
})
const OBJECTS = Number(v.objects)
const C = Number(v.concurrency)
const ENDPOINT = String(v.endpoint)
const KEY_ID = 'test:tester'
const SECRET = 'testing'
const body = randomBytes(Number(v.size))
const keys = Array.from({ length: OBJECTS }, (_, i) => `m/${String(i).padStart(6, '0')}_obj`)

/** One client under test: the five operations, each over all `keys`. */
interface Ops {
  put(bucket: string, key: string): Promise<unknown>
  get(bucket: string, key: string): Promise<unknown>
  /** Lists every key, page by page; returns the count. */
  list(bucket: string): Promise<number>
  del(bucket: string, key: string): Promise<unknown>
  bulkDelete?(bucket: string, keys: readonly string[]): Promise<unknown>
  close(): void
}

function ours(): Ops {
  const s3 = new S3Client({
    endpointUrl: ENDPOINT,
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    maxConnections: C,
  })
  return {
    put: (b, k) => s3.putObject(b, k, body),
    get: (b, k) => s3.getObject(b, k),
    list: async (b) => (await s3.listAll(b, '')).length,
    del: (b, k) => s3.deleteObject(b, k),
    bulkDelete: (b, ks) => s3.deleteObjects(b, ks),
    close: () => s3.close(),
  }
}

function sdk(): Ops {
  const s3 = new SdkClient({
    endpoint: ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
    maxAttempts: 5,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: C } },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  })
  // Swift's s3api (2.30) wants Content-MD5 on DeleteObjects, which SDK v3 replaced by CRC32.
  s3.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string>; body?: unknown; query?: object }
      if (req.query && 'delete' in req.query && typeof req.body === 'string' && req.headers) {
        req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64')
      }
      return next(args)
    },
    { step: 'build', name: 'contentMd5' },
  )
  return {
    put: (b, k) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: body })),
    get: async (b, k) =>
      (await s3.send(new GetObjectCommand({ Bucket: b, Key: k }))).Body?.transformToByteArray(),
    list: async (b) => {
      let n = 0
      let token: string | undefined
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: b, ContinuationToken: token }))
        n += page.Contents?.length ?? 0
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token)
      return n
    },
    del: (b, k) => s3.send(new DeleteObjectCommand({ Bucket: b, Key: k })),
    bulkDelete: async (b, ks) => {
      for (let i = 0; i < ks.length; i += 1000) {
        await s3.send(
          new DeleteObjectsCommand({
            Bucket: b,
            Delete: { Objects: ks.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
          }),
        )
      }
    },
    close: () => s3.destroy(),
  }
}

function fetchSigner(): Ops {
  const aws = new AwsClient({
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    service: 's3',
    region: 'us-east-1',
  })
  const call = async (method: string, path: string, init: { body?: Uint8Array } = {}) => {
    const res = await aws.fetch(`${ENDPOINT}/${path}`, { method, ...(init.body ? { body: init.body } : {}) })
    const bytes = new Uint8Array(await res.arrayBuffer())
    if (res.status >= 300 && !(method === 'DELETE' && res.status === 404)) {
      throw new Error(`aws4fetch ${method} ${path}: ${res.status}`)
    }
    return bytes
  }
  return {
    put: (b, k) => call('PUT', `${b}/${k}`, { body }),
    get: (b, k) => call('GET', `${b}/${k}`),
    list: async (b) => {
      let n = 0
      let token: string | undefined
      do {
        const q = `list-type=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`
        const xml = Buffer.from(await call('GET', `${b}?${q}`)).toString('utf8')
        n += xml.split('<Contents>').length - 1
        token = xml.includes('<IsTruncated>true')
          ? /<NextContinuationToken>([^<]*)/.exec(xml)?.[1]
          : undefined
      } while (token)
      return n
    },
    del: (b, k) => call('DELETE', `${b}/${k}`),
    close: () => {},
  }
}

interface Cell {
  readonly client: string
  readonly op: string
  readonly requests: number
  readonly cpuUs: number
  readonly wallMs: number
}

async function measure(
  client: string,
  op: string,
  requests: number,
  fn: () => Promise<unknown>,
): Promise<Cell> {
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  await fn()
  const cpu = process.cpuUsage(cpu0)
  return { client, op, requests, cpuUs: cpu.user + cpu.system, wallMs: performance.now() - wall0 }
}

async function runClient(name: string, ops: Ops): Promise<Cell[]> {
  const bucket = `bench-clients-${randomBytes(4).toString('hex')}`
  const s3 = new S3Client({
    endpointUrl: ENDPOINT,
    accessKeyId: KEY_ID,
    secretAccessKey: SECRET,
    maxConnections: 4,
  })
  await s3.createBucket(bucket)
  const cells: Cell[] = []
  try {
    // Warm-up (JIT, connections): 200 of each, not counted.
    const warm = keys.slice(0, 200)
    await mapLimit(warm, C, (k) => ops.put(bucket, k))
    await mapLimit(warm, C, (k) => ops.get(bucket, k))
    await mapLimit(warm, C, (k) => ops.del(bucket, k))
    cells.push(await measure(name, 'PUT', OBJECTS, () => mapLimit(keys, C, (k) => ops.put(bucket, k))))
    cells.push(await measure(name, 'GET', OBJECTS, () => mapLimit(keys, C, (k) => ops.get(bucket, k))))
    let listed = 0
    const pages = Math.ceil(OBJECTS / 1000)
    cells.push(
      await measure(name, `LIST (pages of ≤ 1000 of ${OBJECTS} keys)`, pages * 5, async () => {
        for (let i = 0; i < 5; i++) listed = await ops.list(bucket)
      }),
    )
    if (listed !== OBJECTS) throw new Error(`${name} listed ${listed} of ${OBJECTS}`)
    cells.push(await measure(name, 'DELETE', OBJECTS, () => mapLimit(keys, C, (k) => ops.del(bucket, k))))
    const bulk = ops.bulkDelete
    if (bulk) {
      await mapLimit(keys, C, (k) => ops.put(bucket, k))
      cells.push(
        await measure(name, `DeleteObjects (≤ 1000 of ${OBJECTS} keys)`, Math.ceil(OBJECTS / 1000), () =>
          bulk(bucket, keys),
        ),
      )
    }
  } finally {
    ops.close()
    await s3.deleteObjects(bucket, keys).catch(() => {})
    await s3.deleteBucket(bucket).catch(() => {})
    s3.close()
  }
  return cells
}

const all: Cell[] = []
for (let r = 0; r < Number(v.rounds); r++) {
  for (const [name, make] of [
    ['ours (src/objstore)', ours],
    ['@aws-sdk/client-s3', sdk],
    ['aws4fetch (fetch/undici)', fetchSigner],
  ] as const) {
    all.push(...(await runClient(name, make())))
  }
}
process.stdout.write(
  `S3 clients, ${OBJECTS} objects of ${body.length} B, ${C} in flight, ${ENDPOINT}, ${v.rounds} rounds (best CPU of the rounds)\n`,
)
process.stdout.write('| operation | client | µs CPU / request | requests/s |\n|---|---|---:|---:|\n')
const best = new Map<string, Cell>()
for (const c of all) {
  const k = `${c.op}\u0000${c.client}`
  const b = best.get(k)
  if (!b || c.cpuUs < b.cpuUs) best.set(k, c)
}
for (const c of best.values()) {
  process.stdout.write(
    `| ${c.op} | ${c.client} | ${(c.cpuUs / c.requests).toFixed(0)} | ${((c.requests * 1000) / c.wallMs).toPrecision(3)} |\n`,
  )
}
