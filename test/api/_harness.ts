/** Starts the real API (embedded sqlite/file backends, in-process metricd) for tests. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type RunningApi, startApi } from '../../src/cli/api-runtime.ts'
import { loadConfig } from '../../src/config/config.ts'
import { createLogger, type Logger } from '../../src/log/logger.ts'

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly running: RunningApi
  stop(): Promise<void>
}

export async function startTestServer(
  options: {
    maxLimit?: number
    overrides?: readonly string[]
    port?: number
    dataDir?: string
    /** Run metricd in the API process (default true). */
    embeddedMetricd?: boolean
    /** Where the server logs (default: errors to stderr). */
    log?: Logger
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gnocchi-api-test-'))
  const config = loadConfig({
    search: false,
    cwd: dataDir,
    env: {},
    overrides: [
      'api.host=127.0.0.1',
      `api.port=${options.port ?? 0}`,
      `api.max_limit=${options.maxLimit ?? 7}`,
      'api.enable_proxy_headers_parsing=true',
      'cors.allowed_origin=http://foobar.com',
      'metricd.metric_processing_delay=0.1',
      ...(options.overrides ?? []),
    ],
  })
  const log = options.log ?? createLogger({ level: process.env.GNOCCHI_TEST_LOG ? 'debug' : 'error' })
  const running = await startApi(config, log, {
    upgrade: { skipArchivePoliciesCreation: true, sacksNumber: 8 },
    embeddedMetricd: options.embeddedMetricd ?? true,
  })
  const port = (running.server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    running,
    stop: async () => {
      await running.stop()
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export const ADMIN = 'basic YWRtaW46'
export const FOOBAR = 'basic Zm9vYmFyOg=='

export interface Res {
  status: number
  headers: Headers
  text: string
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown
  /** Sent as is. */
  raw?: string | Uint8Array
  /** The `authorization` header; `null` sends none. */
  auth?: string | null
  headers?: Record<string, string>
}

/**
 * One request to `on`, accepting JSON, with `options.auth` (else `defaultAuth`) as
 * `authorization`; a body without a content-type header is sent as `application/json`.
 */
export async function request(
  on: TestServer,
  method: string,
  path: string,
  options: CallOptions = {},
  defaultAuth: string = ADMIN,
): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
  if (options.auth !== null) headers.authorization = options.auth ?? defaultAuth
  let body: string | Uint8Array | undefined = options.raw
  if (options.body !== undefined) body = JSON.stringify(options.body)
  if (body !== undefined) headers['content-type'] ??= 'application/json'
  const res = await fetch(`${on.url}${path}`, { method, headers, body })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/**
 * One server for a test file, started before its tests and stopped after them; `call` sends
 * as `auth` (default admin). `setup` runs once the server is up: node:test does not wait for
 * one root `before` hook before starting the next, so a file's own hook could run too early.
 */
export function useTestServer(
  auth: string = ADMIN,
  setup?: (call: (method: string, path: string, options?: CallOptions) => Promise<Res>) => Promise<void>,
): {
  readonly server: TestServer
  call(method: string, path: string, options?: CallOptions): Promise<Res>
} {
  let started: TestServer | undefined
  const call = (method: string, path: string, options?: CallOptions) =>
    request(current(), method, path, options, auth)
  before(async () => {
    started = await startTestServer()
    await setup?.(call)
  })
  after(async () => {
    await started?.stop()
  })
  const current = (): TestServer => {
    if (!started) throw new Error('BUG: the test server is used before it started')
    return started
  }
  return {
    get server() {
      return current()
    },
    call,
  }
}

/** The archive policy `ap1` of the API tests. */
export const AP1 = {
  name: 'ap1',
  definition: [
    { granularity: '1s', points: 3600 },
    { granularity: 60, timespan: '1 day' },
  ],
}

/** Creates an archive policy as admin (a `useTestServer` setup). */
export async function createArchivePolicy(
  call: (method: string, path: string, options?: CallOptions) => Promise<Res>,
  body: object,
): Promise<void> {
  const r = await call('POST', '/v1/archive_policy', { auth: ADMIN, body })
  assert.equal(r.status, 201, r.text)
}
