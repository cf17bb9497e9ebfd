/**
 * The Keystone v3 password-authentication request (`POST /v3/auth/tokens`): one builder for the
 * service user, the Swift client, the console login and the tests, so the body has one shape.
 */

/** A Keystone domain (or project) named by id or by name. */
export type KeystoneRef = { readonly id: string } | { readonly name: string }

/**
 * What the token is scoped to; absent: unscoped. A project name left undefined (swift_project_name
 * not set) is left out of the JSON, and Keystone refuses the request.
 */
export type KeystoneScope =
  | {
      readonly project:
        | { readonly id: string }
        | { readonly name: string | undefined; readonly domain: KeystoneRef }
    }
  | { readonly domain: KeystoneRef }
  | { readonly system: { readonly all: true } }

export interface KeystonePasswordAuth {
  readonly user: string
  readonly password: string
  readonly userDomain: KeystoneRef
  readonly scope?: KeystoneScope
}

/** The JSON body of a v3 password authentication. */
export function keystonePasswordAuthBody(a: KeystonePasswordAuth): string {
  return JSON.stringify({
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: a.user, domain: a.userDomain, password: a.password } },
      },
      scope: a.scope,
    },
  })
}
