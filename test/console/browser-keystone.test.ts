/**
 * The web console in keystone mode, in real Chromium against the real Keystone of
 * scripts/services/keystone: the password login (through `POST /ui/login/keystone`) with a wrong
 * and then the right password, a non-admin's view, a pasted token (a wrong one, a good one, then
 * revoked: the console asks to sign in again).
 */
import { after, describe, test } from 'node:test'
import { requireChromium } from '../../src/testing/test-tools.ts'
import { issueToken, keystoneOverrides, keystoneReachable, revokeToken } from '../_support/keystone.ts'
import { closeBrowser, screenshot, withConsole } from './_browser.ts'

const skip = requireChromium()

after(closeBrowser)

describe('web console in keystone mode', { skip }, async () => {
  const reachable = skip === false && (await keystoneReachable('the console’s keystone login'))
  test('user/password/project login, a wrong password, a pasted token', { skip: !reachable }, async () => {
    await withConsole(
      async (server, tab) => {
        // Keystone hashes passwords (bcrypt) and validates tokens: slow on a loaded machine.
        tab.context.setDefaultTimeout(30_000)
        await tab.page.goto(`${server.url}/ui/`)
        await tab.page.getByLabel('User name').fill('alice')
        await tab.page.getByLabel('Password', { exact: true }).fill('wrong')
        await tab.page.getByLabel('Project').fill('project-a')
        await tab.page.getByRole('button', { name: 'Sign in' }).click()
        await tab.page
          .getByRole('alert')
          .getByText('Keystone refused this user name, password or project.')
          .waitFor()
        await screenshot(tab.page, 'login-keystone')
        await tab.page.getByLabel('Password', { exact: true }).fill('alice')
        await tab.page.getByRole('button', { name: 'Sign in' }).click()
        await tab.page.getByText('Signed in as alice').waitFor()
        // alice is no admin: the status is refused, resources are listed.
        await tab.page
          .getByRole('alert')
          .getByText(/^403 Forbidden/)
          .waitFor()
        await tab.page.goto(`${server.url}/ui/#/resources`)
        await tab.page.getByTestId('resources').waitFor()
        await tab.page.getByRole('button', { name: 'Sign out' }).click()

        const { token } = await issueToken('admin', { project: 'admin' })
        await tab.page.getByLabel('a token').check()
        await tab.page.getByLabel('Token', { exact: true }).fill('not-a-token')
        await tab.page.getByRole('button', { name: 'Sign in' }).click()
        await tab.page
          .getByRole('alert')
          .getByText(/^401 Unauthorized/)
          .waitFor()
        await tab.page.getByLabel('Token', { exact: true }).fill(token)
        await tab.page.getByRole('button', { name: 'Sign in' }).click()
        await tab.page.getByText('Signed in with a token').waitFor()
        await tab.page.getByRole('link', { name: 'Status' }).click()
        await tab.page.getByTestId('backlog-measures').getByText('0').waitFor()

        // A revoked token: the next request is refused and the console asks to sign in again.
        await revokeToken(token)
        await tab.page.getByRole('link', { name: 'Resources' }).click()
        await tab.page.getByRole('button', { name: 'Sign in' }).waitFor()
        tab.errors.length = 0 // the browser logs the refused requests
      },
      { overrides: keystoneOverrides(undefined, ['keystone_authtoken.token_cache_time=0']) },
    )
  })
})
