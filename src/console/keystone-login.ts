/**
 * Keystone mode's password login for the console: the browser cannot ask Keystone itself (another
 * origin, which the console's CSP and Keystone's CORS both refuse), so `POST /ui/login/keystone`
 * exchanges `{user, password, project, domain}` for a project-scoped token at the configured
 * Keystone and hands the token back; every later request carries it as `X-Auth-Token` to the
 * REST API like any client's. Nothing of the request is logged. Errors are the catalog's: 400
 * for a bad body, 401 when Keystone refuses, 503 + Retry-After when it cannot answer.
 */
import type { Reply } from '../api/context.ts'
import { keystonePasswordAuthBody } from '../compat/keystone-password-auth.ts'
import {
  AuthServiceUnavailableError,
  InvalidInputTextError,
  NotAuthenticatedError,
} from '../domain/request-errors.ts'
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

function parseBody(body: Buffer): LoginBody {
  let v: unknown
  try {
    v = JSON.parse(body.toString('utf8'))
  } catch {
    v = undefined
  }
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}
  const s = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined)
  const user = s('user')
  const password = s('password')
  const project = s('project')
  if (user === undefined || password === undefined || project === undefined) {
    throw new InvalidInputTextError('user, password and project are required strings')
  }
  return { user, password, project, domain: s('domain') ?? 'Default' }
}

export async function keystoneLoginReply(
  login: KeystoneLogin,
  raw: Buffer,
  log: Logger,
  headers: Record<string, string>,
): Promise<Reply> {
  const body = parseBody(raw)
  const base = login.url.replace(/\/+$/, '').replace(/\/v3$/, '')
  const domain = { name: body.domain }
  let res: Response
  try {
    res = await fetch(`${base}/v3/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: keystonePasswordAuthBody({
        user: body.user,
        password: body.password,
        userDomain: domain,
        scope: { project: { name: body.project, domain } },
      }),
      signal: AbortSignal.timeout(login.timeoutMs),
    })
  } catch (err) {
    log.warn('keystone login: Keystone unreachable', { url: base, detail: (err as Error).message })
    throw new AuthServiceUnavailableError()
  }
  const token = res.headers.get('x-subject-token')
  const text = await res.text()
  // Keystone answers 401 for a wrong password or user, 401/404 for a project it cannot scope to.
  if (res.status === 401 || res.status === 404) throw new NotAuthenticatedError()
  if (res.status !== 201 || !token) {
    log.warn('keystone login: unexpected answer', { url: base, status: res.status })
    throw new AuthServiceUnavailableError()
  }
  let expiresAt: string | null = null
  try {
    expiresAt = (JSON.parse(text) as { token?: { expires_at?: string } }).token?.expires_at ?? null
  } catch {}
  return {
    status: 201,
    body: JSON.stringify({ token, expires_at: expiresAt }),
    contentType: 'application/json',
    headers: { ...headers, 'cache-control': 'no-store' },
  }
}
