/**
 * A small S3 client (path-style requests, AWS Signature V4) for the s3 drivers: the handful of
 * calls upstream's drivers make through boto3 — buckets, put/get/head/delete, ListObjectsV2 and
 * DeleteObjects — over the shared keep-alive HttpClient. Credentials only ever go into the
 * signature; errors name the bucket and key, never a header.
 */
import { createHmac, createSecretKey, hash, type KeyObject } from 'node:crypto'
import {
  encodeKeyPath,
  encodeRfc3986,
  HttpClient,
  type HttpOrigin,
  type HttpResponse,
  ObjectStoreRequestError,
  parseOrigin,
} from './http-client.ts'
import type { S3Options } from './s3-options.ts'

export interface S3ClientOptions {
  /** `s3_endpoint_url`, e.g. `http://127.0.0.1:8080` (unset: AWS, `https://s3.<region>.amazonaws.com`). */
  readonly endpointUrl?: string
  /** `s3_region_name` (unset: `us-east-1`, as boto3 signs). */
  readonly region?: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** `s3_max_pool_connections` (upstream default 50). */
  readonly maxConnections: number
  readonly timeoutMs?: number
}

export interface ListedObject {
  readonly key: string
  readonly etag: string
}

export interface ListPage {
  readonly objects: ListedObject[]
  readonly commonPrefixes: string[]
  readonly nextToken: string | undefined
}

const EMPTY_SHA256 = hash('sha256', '', 'hex')
/** DeleteObjects takes at most 1000 keys per call. */
export const DELETE_BATCH = 1000

/** The client the s3 drivers use for `[storage]`/`[incoming]` s3_* options. */
export function s3ClientFor(options: S3Options): S3Client {
  return new S3Client({
    ...(options.endpointUrl ? { endpointUrl: options.endpointUrl } : {}),
    ...(options.regionName ? { region: options.regionName } : {}),
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    maxConnections: options.maxPoolConnections,
  })
}

export class S3Client {
  readonly region: string
  readonly #endpoint: HttpOrigin
  readonly #accessKeyId: string
  readonly #secret: string
  readonly #http: HttpClient
  #signingDay = ''
  #dateSecond = -1
  #dateText = ''
  /** A KeyObject, not a Buffer: createHmac re-imports a Buffer key on every call (~10 µs). */
  #signingKey: KeyObject = createSecretKey(Buffer.alloc(1))

  constructor(options: S3ClientOptions) {
    this.region = options.region || 'us-east-1'
    this.#endpoint = parseOrigin(options.endpointUrl || `https://s3.${this.region}.amazonaws.com`)
    this.#accessKeyId = options.accessKeyId
    this.#secret = options.secretAccessKey
    this.#http = new HttpClient({
      maxConnections: options.maxConnections,
      timeoutMs: options.timeoutMs ?? 60_000,
    })
  }

  get endpoint(): string {
    return this.#endpoint.origin
  }

  /** Creates the bucket; false when it already exists (ours or, on AWS, someone else's: an error). */
  async createBucket(bucket: string): Promise<boolean> {
    // Upstream sends the region as LocationConstraint; AWS refuses `us-east-1` there.
    const body =
      this.region === 'us-east-1'
        ? undefined
        : Buffer.from(
            `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${this.region}</LocationConstraint></CreateBucketConfiguration>`,
          )
    const res = await this.#call('PUT', bucket, '', {}, body)
    if (res.status === 200) return true
    const code = errorCode(res)
    if (res.status === 409 && (code === 'BucketAlreadyOwnedByYou' || code === 'BucketAlreadyExists'))
      return false
    throw this.#error('PUT', bucket, '', res)
  }

  /** Deletes an empty bucket (tests, tools); a missing one is not an error. */
  async deleteBucket(bucket: string): Promise<void> {
    const res = await this.#call('DELETE', bucket, '')
    if (res.status !== 204 && res.status !== 200 && res.status !== 404)
      throw this.#error('DELETE', bucket, '', res)
  }

  async putObject(bucket: string, key: string, body: Uint8Array): Promise<string> {
    const res = await this.#call('PUT', bucket, key, {}, body)
    if (res.status !== 200) throw this.#error('PUT', bucket, key, res)
    return String(res.headers.etag ?? '')
  }

  /** The object's bytes; undefined when it (or its bucket, with `missingBucketOk`) does not exist. */
  async getObject(bucket: string, key: string, missingBucketOk = false): Promise<Buffer | undefined> {
    const res = await this.#call('GET', bucket, key)
    if (res.status === 200) return res.body
    if (res.status === 404 && (missingBucketOk || errorCode(res) !== 'NoSuchBucket')) return undefined
    throw this.#error('GET', bucket, key, res)
  }

  /** ETag, or undefined for a missing object (or a failed If-Match: 412). */
  async headObject(bucket: string, key: string, ifMatch?: string): Promise<string | undefined> {
    const res = await this.#call('HEAD', bucket, key, ifMatch ? { 'if-match': ifMatch } : {})
    if (res.status === 200) return String(res.headers.etag ?? '')
    if (res.status === 404 || res.status === 412) return undefined
    throw this.#error('HEAD', bucket, key, res)
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const res = await this.#call('DELETE', bucket, key)
    if (res.status !== 204 && res.status !== 200 && res.status !== 404)
      throw this.#error('DELETE', bucket, key, res)
  }

  /** DeleteObjects (quiet), by the thousand; a key already gone is not an error. */
  async deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
    for (let at = 0; at < keys.length; at += DELETE_BATCH) {
      const chunk = keys.slice(at, at + DELETE_BATCH)
      if (chunk.length === 1) {
        await this.deleteObject(bucket, chunk[0])
        continue
      }
      const xml = `<Delete><Quiet>true</Quiet>${chunk.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')}</Delete>`
      const body = Buffer.from(xml)
      const md5 = hash('md5', body, 'base64')
      const res = await this.#call('POST', bucket, '', { 'content-md5': md5 }, body, 'delete=')
      if (res.status !== 200) throw this.#error('POST ?delete', bucket, '', res)
      const errors = [...res.body.toString('utf8').matchAll(/<Error>([\s\S]*?)<\/Error>/g)]
        .map((m) => ({ key: xmlText(m[1], 'Key'), code: xmlText(m[1], 'Code') }))
        .filter((e) => e.code !== 'NoSuchKey')
      if (errors.length > 0) {
        throw new ObjectStoreRequestError(
          `S3 DeleteObjects ${bucket}: ${errors.length} keys not deleted (first: ${errors[0].key}: ${errors[0].code})`,
          500,
          errors[0].code,
        )
      }
    }
  }

  /** One ListObjectsV2 page (`delimiter` gives CommonPrefixes). */
  async listPage(
    bucket: string,
    prefix: string,
    options: { token?: string; delimiter?: string; maxKeys?: number } = {},
  ): Promise<ListPage> {
    const q: Array<[string, string]> = [
      ['list-type', '2'],
      ['prefix', prefix],
    ]
    if (options.token !== undefined) q.push(['continuation-token', options.token])
    if (options.delimiter !== undefined) q.push(['delimiter', options.delimiter])
    if (options.maxKeys !== undefined) q.push(['max-keys', String(options.maxKeys)])
    const query = canonicalQuery(q)
    const res = await this.#call('GET', bucket, '', {}, undefined, query)
    if (res.status !== 200) throw this.#error('GET ?list-type=2', bucket, prefix, res)
    const xml = res.body.toString('utf8')
    const objects: ListedObject[] = []
    forEachElement(xml, 'Contents', (from, to) => {
      objects.push({ key: xmlText(xml, 'Key', from, to) ?? '', etag: xmlText(xml, 'ETag', from, to) ?? '' })
    })
    const commonPrefixes: string[] = []
    forEachElement(xml, 'CommonPrefixes', (from, to) => {
      commonPrefixes.push(xmlText(xml, 'Prefix', from, to) ?? '')
    })
    const truncated = xmlText(xml, 'IsTruncated') === 'true'
    return {
      objects,
      commonPrefixes,
      nextToken: truncated ? xmlText(xml, 'NextContinuationToken') : undefined,
    }
  }

  /** Every key under `prefix`, all pages. */
  async listAll(bucket: string, prefix: string, maxKeys?: number): Promise<ListedObject[]> {
    const all: ListedObject[] = []
    let token: string | undefined
    do {
      const page = await this.listPage(bucket, prefix, {
        ...(token !== undefined ? { token } : {}),
        ...(maxKeys !== undefined ? { maxKeys } : {}),
      })
      all.push(...page.objects)
      token = page.nextToken
    } while (token !== undefined)
    return all
  }

  /** Every CommonPrefix under `prefix` for `delimiter`, all pages. */
  async listPrefixes(bucket: string, prefix: string, delimiter: string): Promise<string[]> {
    const all: string[] = []
    let token: string | undefined
    do {
      const page = await this.listPage(
        bucket,
        prefix,
        token === undefined ? { delimiter } : { token, delimiter },
      )
      all.push(...page.commonPrefixes)
      token = page.nextToken
    } while (token !== undefined)
    return all
  }

  close(): void {
    this.#http.close()
  }

  #call(
    method: string,
    bucket: string,
    key: string,
    extra: Record<string, string> = {},
    body?: Uint8Array,
    query = '',
  ): Promise<HttpResponse> {
    const path = `${this.#endpoint.basePath}/${encodeRfc3986(bucket)}${key ? `/${encodeKeyPath(key)}` : ''}`
    // One-shot hashes: no Hash object per call.
    const payloadHash = body ? hash('sha256', body, 'hex') : EMPTY_SHA256
    return this.#http.request({
      method,
      origin: this.#endpoint,
      path: query ? `${path}?${query}` : path,
      headers: extra,
      ...(body !== undefined ? { body } : {}),
      what: `S3 ${method} ${bucket}/${key}`,
      prepare: (headers) => this.#sign(method, path, query, headers, payloadHash),
    })
  }

  /** `YYYYMMDDTHHMMSSZ`, computed once a second. */
  #amzDate(): string {
    const second = Math.floor(Date.now() / 1000)
    if (second !== this.#dateSecond) {
      this.#dateSecond = second
      const iso = new Date(second * 1000).toISOString() // 2026-12-07T11:40:00.000Z
      this.#dateText = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
    }
    return this.#dateText
  }

  /**
   * AWS Signature Version 4 (header form) over host, x-amz-* and the given headers (whose
   * names the callers give in lower case).
   */
  #sign(
    method: string,
    path: string,
    query: string,
    headers: Record<string, string>,
    payloadHash: string,
  ): void {
    const amzDate = this.#amzDate()
    const day = amzDate.slice(0, 8)
    headers.host = this.#endpoint.host
    headers['x-amz-date'] = amzDate
    headers['x-amz-content-sha256'] = payloadHash
    const names = Object.keys(headers).sort()
    let canonicalHeaders = ''
    for (const n of names) canonicalHeaders += `${n}:${(headers[n] as string).trim()}\n`
    const signedHeaders = names.join(';')
    const canonical = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`
    const scope = `${day}/${this.region}/s3/aws4_request`
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash('sha256', canonical, 'hex')}`
    if (this.#signingDay !== day) {
      const kDate = hmac(`AWS4${this.#secret}`, day)
      this.#signingKey = createSecretKey(hmac(hmac(hmac(kDate, this.region), 's3'), 'aws4_request'))
      this.#signingDay = day
    }
    const signature = createHmac('sha256', this.#signingKey).update(toSign).digest('hex')
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${this.#accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  }

  #error(method: string, bucket: string, key: string, res: HttpResponse): ObjectStoreRequestError {
    const code = errorCode(res)
    const hint =
      code === 'NoSuchBucket'
        ? ' (run gnocchi-upgrade to create it)'
        : res.status === 403
          ? ' (check s3_access_key_id / s3_secret_access_key)'
          : ''
    return new ObjectStoreRequestError(
      `S3 ${method} ${bucket}/${key} at ${this.endpoint}: HTTP ${res.status}${code ? ` ${code}` : ''}${hint}`,
      res.status,
      code,
    )
  }
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

function errorCode(res: HttpResponse): string | undefined {
  return res.body.length > 0 ? xmlText(res.body.toString('utf8'), 'Code') : undefined
}

/**
 * Calls `fn` with the bounds of the content of every `<tag>…</tag>` of `xml` (no nesting of
 * the same tag, as in S3's answers). indexOf scans instead of regexes: a listing page of
 * 1 000 keys is parsed with no match objects and no substring but the values kept.
 */
function forEachElement(xml: string, tag: string, fn: (from: number, to: number) => void): void {
  const open = `<${tag}>`
  const close = `</${tag}>`
  let at = xml.indexOf(open)
  while (at !== -1) {
    const from = at + open.length
    const to = xml.indexOf(close, from)
    if (to === -1) return
    fn(from, to)
    at = xml.indexOf(open, to + close.length)
  }
}

/** Unescaped content of the first `<tag>…</tag>` within xml[from, to). */
function xmlText(xml: string, tag: string, from = 0, to = xml.length): string | undefined {
  const open = `<${tag}>`
  const start = xml.indexOf(open, from)
  if (start === -1 || start >= to) return undefined
  const end = xml.indexOf(`</${tag}>`, start + open.length)
  if (end === -1 || end > to) return undefined
  const text = xml.slice(start + open.length, end)
  return text.includes('&') ? xmlUnescape(text) : text
}

function xmlUnescape(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<'
    if (e === 'gt') return '>'
    if (e === 'amp') return '&'
    if (e === 'quot') return '"'
    if (e === 'apos') return "'"
    return String.fromCodePoint(e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)))
  })
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
