/**
 * Keystone mode's password login for the console: the browser cannot ask Keystone itself (another
 * origin, which the console's CSP and Keystone's CORS both refuse), so `POST /ui/login/keystone`
 * exchanges `{user, password, project, domain}` for a project-scoped token at the configured
 * Keystone and hands the token back; every later request carries it as `X-Auth-Token` to the
 * REST API like any client's. Nothing of the request is logged.
 */
import type { Reply } from '../api/context.ts'
import type { Logger } from '../log/logger.ts'

export interface KeystoneLogin {
  /** Keystone's public endpoint (`www_authenticate_uri`, else `auth_url`), with or without `/v3`. */
  readonly url: string
  readonly timeoutMs: number
}

interface LoginBody {
  readonly user: string
  readonly password: string
  readonly project: string
  readonly domain: string
}

function parseBody(body: Buffer): LoginBody | undefined {
  let v: unknown
  try {
    v = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  const s = (k: string, dflt?: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : dflt)
  const user = s('user')
  const password = s('password')
  const project = s('project')
  if (user === undefined || password === undefined || project === undefined) return undefined
  return { user, password, project, domain: s('domain', 'Default') as string }
}

function json(status: number, value: unknown, headers: Record<string, string>): Reply {
  return {
    status,
    body: JSON.stringify(value),
    contentType: 'application/json',
    headers: { ...headers, 'cache-control': 'no-store' },
  }
}

export async function keystoneLoginReply(
  login: KeystoneLogin,
  raw: Buffer,
  log: Logger,
  headers: Record<string, string>,
): Promise<Reply> {
  const body = parseBody(raw)
  if (!body) {
    return json(400, { code: 400, description: 'user, password and project are required' }, headers)
  }
  const base = login.url.replace(/\/+$/, '').replace(/\/v3$/, '')
  const domain = { name: body.domain }
  let res: Response
  try {
    res = await fetch(`${base}/v3/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: body.user, domain, password: body.password } },
          },
          scope: { project: { name: body.project, domain } },
        },
      }),
      signal: AbortSignal.timeout(login.timeoutMs),
    })
  } catch (err) {
    log.warn('keystone login: Keystone unreachable', { url: base, detail: (err as Error).message })
    return json(
      503,
      { code: 503, description: 'Keystone is unreachable' },
      { ...headers, 'retry-after': '5' },
    )
  }
  const token = res.headers.get('x-subject-token')
  const text = await res.text()
  if (res.status !== 201 || !token) {
    if (res.status === 401 || res.status === 404) {
      return json(401, { code: 401, description: 'The user name, password or project is wrong.' }, headers)
    }
    log.warn('keystone login: unexpected answer', { url: base, status: res.status })
    return json(502, { code: 502, description: `Keystone answered ${res.status}` }, headers)
  }
  let expiresAt: string | null = null
  try {
    expiresAt = (JSON.parse(text) as { token?: { expires_at?: string } }).token?.expires_at ?? null
  } catch {}
  return json(201, { token, expires_at: expiresAt }, headers)
}
