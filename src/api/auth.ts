/**
 * Identity (architecture.md §9.1), resolved lazily as upstream does: only handlers that ask
 * for the current user or the policy credentials get a 401 when credentials are missing.
 *
 * - `basic`: the user name of `Authorization: Basic base64(user:password)` (scheme
 *   case-insensitive, password ignored); user `admin` has the `admin` role.
 * - `remoteuser`: upstream reads the WSGI `REMOTE_USER`; a Node server has no WSGI
 *   environment, so the fronting proxy passes it as the `X-Remote-User` header.
 * - `keystone`: the identity of the validated token (keystone/keystone-auth.ts), as upstream's
 *   KeystoneAuthHelper reads it; the user is `user_id:project_id`. Domain-scoped tokens put
 *   their domain where the project goes (upstream PR #878, docs/keystone.md).
 */
import { NotAuthenticatedError } from '../domain/request-errors.ts'
import type { KeystoneIdentity } from './keystone/keystone-auth.ts'
import type { Credentials } from './policy.ts'

export type AuthMode = 'basic' | 'remoteuser' | 'keystone'

export const REMOTE_USER_HEADER = 'x-remote-user'

/** werkzeug `parse_authorization_header` for the basic scheme; undefined when unusable. */
export function parseBasicAuthUser(header: string | undefined): string | undefined {
  if (!header) return undefined
  const space = header.indexOf(' ')
  if (space < 0) return undefined
  if (header.slice(0, space).toLowerCase() !== 'basic') return undefined
  const encoded = header.slice(space + 1).trim()
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined
  const decoded = Buffer.from(encoded, 'base64')
  const colon = decoded.indexOf(0x3a)
  if (colon < 0) return undefined
  return new TextDecoder('utf-8', { fatal: false }).decode(decoded.subarray(0, colon))
}

/** Policy credentials of each identity (cached validations are shared objects, never mutated). */
const KEYSTONE_CREDENTIALS = new WeakMap<KeystoneIdentity, Credentials>()

export class RequestAuth {
  readonly #mode: AuthMode
  readonly #headers: Readonly<Record<string, string | string[] | undefined>>
  readonly #identity: KeystoneIdentity | undefined
  #user: string | undefined

  constructor(
    mode: AuthMode,
    headers: Readonly<Record<string, string | string[] | undefined>>,
    identity?: KeystoneIdentity,
  ) {
    this.#mode = mode
    this.#headers = headers
    this.#identity = identity
  }

  /** The current user string; 401 when the request carries no usable credentials. */
  currentUser(): string {
    if (this.#user !== undefined) return this.#user
    const user =
      this.#mode === 'keystone'
        ? keystoneUser(this.#identity)
        : this.#mode === 'basic'
          ? parseBasicAuthUser(headerValue(this.#headers.authorization))
          : decodeLatin1(headerValue(this.#headers[REMOTE_USER_HEADER]))
    if (user === undefined) throw new NotAuthenticatedError()
    this.#user = user
    return user
  }

  /** Credentials for the policy engine (`{user, roles, system}`). */
  credentials(): Credentials {
    const user = this.currentUser()
    const id = this.#identity
    if (this.#mode === 'keystone' && id !== undefined) {
      // Built once per cached identity (the same for every request of that token).
      const cached = KEYSTONE_CREDENTIALS.get(id)
      if (cached !== undefined) return cached
      // Upstream's keys (user, user_id, project_id, domain_id, roles), plus oslo.context's
      // other policy values so that an operator's policy file can use them.
      // A scope the token lacks is left out rather than None: upstream's `None` matched the
      // `None` of resources without a project (docs/compatibility.md).
      const creds: Record<string, unknown> = { user, user_id: id.userId, roles: id.roles }
      if (id.projectId !== null) creds.project_id = id.projectId
      if (id.domainId !== null) creds.domain_id = id.domainId
      if (id.userDomainId !== null) creds.user_domain_id = id.userDomainId
      if (id.projectDomainId !== null) creds.project_domain_id = id.projectDomainId
      if (id.systemScope !== null) creds.system_scope = id.systemScope
      KEYSTONE_CREDENTIALS.set(id, creds as Credentials)
      return creds as Credentials
    }
    return { user, roles: user === 'admin' ? ['admin'] : [], system: 'all' }
  }
}

/** `user_id:project_id` (the domain for a domain-scoped token, nothing for a system one). */
function keystoneUser(id: KeystoneIdentity | undefined): string | undefined {
  if (id === undefined) return undefined
  return `${id.userId}:${id.projectId ?? id.domainId ?? ''}`
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function decodeLatin1(v: string | undefined): string | undefined {
  // Node already decodes header bytes as latin-1, which is what upstream does with REMOTE_USER.
  return v
}

/** `creator` split at the first `:` → `created_by_user_id`, `created_by_project_id`. */
export function splitCreator(creator: string | null): { userId: string | null; projectId: string | null } {
  if (creator === null) return { userId: null, projectId: null }
  const colon = creator.indexOf(':')
  if (colon < 0) return { userId: creator, projectId: '' }
  return { userId: creator.slice(0, colon), projectId: creator.slice(colon + 1) }
}
