/**
 * The real Keystone of scripts/services/keystone (start.sh): reachability (tests skip on a
 * developer's machine when it is down, and fail with CI set), tokens of the seeded users, and
 * the `[keystone_authtoken]` overrides of a gnocchi-api that validates them.
 */
import { execFile } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type KeystoneScope, keystonePasswordAuthBody } from '../../src/compat/keystone-password-auth.ts'
import { requireService } from '../../src/testing/require-tool.ts'
import { ROOT } from './processes.ts'

export const KEYSTONE_URL = process.env.GNOCCHI_TEST_KEYSTONE_URL ?? 'http://127.0.0.1:5000'
/** The seeded service user of the tests (seed.py). */
export const SERVICE_USER = 'gnocchi-api'
export const SERVICE_PASSWORD = 'gnocchi-api-Q7v2-secret'

/** Whether Keystone answers; throws with CI set when it does not (requireService). */
export async function keystoneReachable(what: string): Promise<boolean> {
  const skip = await requireService(
    'Keystone server',
    async () => {
      try {
        const res = await fetch(`${KEYSTONE_URL}/v3`, { signal: AbortSignal.timeout(5000) })
        return res.ok || `${KEYSTONE_URL}/v3 answered ${res.status}`
      } catch (e) {
        return `unreachable at ${KEYSTONE_URL} (${(e as Error).message})`
      }
    },
    'scripts/services/keystone/start.sh (Debian packages: see scripts/install-test-deps.sh)',
  )
  if (skip) process.stderr.write(`# skipping ${what}\n`)
  return skip === false
}

export type Scope = { project: string } | { domain: string } | 'system' | 'unscoped'

export interface IssuedToken {
  readonly token: string
  readonly userId: string
  readonly projectId: string | null
  readonly domainId: string | null
  readonly expiresAtMs: number
}

/** A token of a seeded user (password = user name, except the service user's). */
export async function issueToken(
  user: string,
  scope: Scope,
  password = user,
  keystoneUrl = KEYSTONE_URL,
): Promise<IssuedToken> {
  const scopeJson: KeystoneScope | undefined =
    scope === 'unscoped'
      ? undefined
      : scope === 'system'
        ? { system: { all: true } }
        : 'project' in scope
          ? { project: { name: scope.project, domain: { id: 'default' } } }
          : { domain: { id: scope.domain } }
  const res = await fetch(`${keystoneUrl}/v3/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: keystonePasswordAuthBody({ user, password, userDomain: { id: 'default' }, scope: scopeJson }),
  })
  const body = (await res.json()) as {
    token: { user: { id: string }; project?: { id: string }; domain?: { id: string }; expires_at: string }
  }
  const token = res.headers.get('x-subject-token')
  if (res.status !== 201 || !token) throw new Error(`token of ${user}: ${res.status} ${JSON.stringify(body)}`)
  return {
    token,
    userId: body.token.user.id,
    projectId: body.token.project?.id ?? null,
    domainId: body.token.domain?.id ?? null,
    expiresAtMs: Date.parse(body.token.expires_at),
  }
}

/** Revokes `token` (`DELETE /v3/auth/tokens`, as its own bearer). */
export async function revokeToken(token: string): Promise<void> {
  const res = await fetch(`${KEYSTONE_URL}/v3/auth/tokens`, {
    method: 'DELETE',
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  })
  if (res.status !== 204) throw new Error(`revoke: ${res.status}`)
}

/** `--set` overrides of a keystone-mode gnocchi-api whose Keystone is at `authUrl`. */
export function keystoneOverrides(authUrl = KEYSTONE_URL, extra: readonly string[] = []): string[] {
  return [
    'api.auth_mode=keystone',
    `keystone_authtoken.www_authenticate_uri=${KEYSTONE_URL}`,
    `keystone_authtoken.auth_url=${authUrl}`,
    'keystone_authtoken.auth_type=password',
    `keystone_authtoken.username=${SERVICE_USER}`,
    `keystone_authtoken.password=${SERVICE_PASSWORD}`,
    'keystone_authtoken.project_name=service',
    'keystone_authtoken.user_domain_name=Default',
    'keystone_authtoken.project_domain_name=Default',
    // Validations go to the catalog's identity endpoint of that interface (127.0.0.1:5000), or to
    // `auth_url` when the catalog has none: an interface it lacks keeps a relay in the path.
    `keystone_authtoken.interface=${authUrl === KEYSTONE_URL ? 'public' : 'not-in-catalog'}`,
    ...extra,
  ]
}

/**
 * A TCP relay to Keystone that a test can cut, as a network partition would (Keystone itself
 * keeps serving the other tests). Counts the connections it relayed: Keystone answers with
 * `Connection: close`, so that is the number of requests made to it.
 */
export class KeystoneRelay {
  connections = 0
  /** Of those, token validations (`GET /v3/auth/tokens`; service authentications are POSTs). */
  validations = 0
  readonly #server: net.Server
  readonly #sockets = new Set<net.Socket>()
  #open = true

  private constructor(server: net.Server) {
    this.#server = server
  }

  static async start(target = new URL(KEYSTONE_URL)): Promise<KeystoneRelay> {
    let relay: KeystoneRelay | undefined
    const server = net.createServer((client) => {
      if (!relay?.isOpen) {
        client.destroy()
        return
      }
      relay.connections++
      const counting = relay
      client.once('data', (d: Buffer) => {
        if (d.subarray(0, 4).toString('latin1') === 'GET ') counting.validations++
      })
      const sockets = relay.#sockets
      const upstream = net.connect(Number(target.port || 80), target.hostname)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    relay = new KeystoneRelay(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return relay
  }

  get isOpen(): boolean {
    return this.#open
  }

  get url(): string {
    const { port } = this.#server.address() as net.AddressInfo
    return `http://127.0.0.1:${port}`
  }

  /** Refuses and drops every connection from now on (`resume` lets them through again). */
  cut(): void {
    this.#open = false
    for (const s of this.#sockets) s.destroy()
  }

  resume(): void {
    this.#open = true
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

const SERVICE_SCRIPTS = join(ROOT, 'scripts', 'services', 'keystone')
const run = promisify(execFile)

/**
 * A Keystone of its own (scripts/services/keystone with another port and state directory),
 * for a test that stops and starts it: the shared one on 5000 serves the other tests. Its
 * state stays in `/tmp/gnocchi-ts-keystone-<port>` between runs (the first start, with
 * `keystone-manage bootstrap` and seed.py, takes ~30 s; later ones ~3 s). Its catalog may
 * name an older port: point gnocchi-api at `url` with `keystoneOverrides(url)`, which does not
 * follow the catalog.
 */
export class PrivateKeystone {
  readonly url: string
  readonly #env: NodeJS.ProcessEnv

  constructor(port: number, tokenExpirationS = 600) {
    this.url = `http://127.0.0.1:${port}`
    this.#env = {
      ...process.env,
      KEYSTONE_PORT: String(port),
      KEYSTONE_DIR: `/tmp/gnocchi-ts-keystone-${port}`,
      KEYSTONE_TOKEN_EXPIRATION: String(tokenExpirationS),
    }
  }

  async start(): Promise<void> {
    await run('bash', [join(SERVICE_SCRIPTS, 'start.sh')], { env: this.#env, timeout: 180_000 })
  }

  async stop(): Promise<void> {
    await run('bash', [join(SERVICE_SCRIPTS, 'stop.sh')], { env: this.#env, timeout: 30_000 })
  }
}
