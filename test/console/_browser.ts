/**
 * Real Chromium for the console's tests (Debian's `chromium` driven by playwright-core; no
 * browser download): one browser per test file, a fresh context (cookies, storage) per test,
 * REST calls to set data up, and the screenshots of docs/console/ (written only with
 * UPDATE_SCREENSHOTS=1, so a test run never dirties the tree).
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { CHROMIUM_PATH } from '../../src/testing/test-tools.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'

const SHOTS = resolve(import.meta.dirname, '..', '..', 'docs', 'console')

let browser: Browser | undefined

export async function launchBrowser(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  return browser
}

export async function closeBrowser(): Promise<void> {
  await browser?.close()
  browser = undefined
}

export interface Tab {
  readonly context: BrowserContext
  readonly page: Page
  /** Requests to any other origin (the console must make none). */
  readonly foreign: string[]
  /** Uncaught errors and CSP violations of the page. */
  readonly errors: string[]
}

/** A new context on `server`; every request leaving its origin is recorded. */
export async function openTab(
  server: TestServer,
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<Tab> {
  const b = await launchBrowser()
  const context = await b.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
  })
  const foreign: string[] = []
  const errors: string[] = []
  // Listening, not intercepting: routing every request through this process slowed the pages
  // several times on a loaded machine, and the CSP already blocks other origins.
  context.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith(`${server.url}/`) && !url.startsWith('blob:') && !url.startsWith('data:'))
      foreign.push(url)
  })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`)
  })
  return { context, page, foreign, errors }
}

/** Signs in through the basic-mode form as `user`. */
export async function loginBasic(tab: Tab, server: TestServer, user: string, hash = ''): Promise<void> {
  await tab.page.goto(`${server.url}/${hash}`)
  await tab.page.getByLabel('User name').fill(user)
  await tab.page.getByRole('button', { name: 'Sign in' }).click()
  await tab.page.getByText(`Signed in as ${user}`).waitFor()
}

/** A REST call as `user` (basic mode), JSON in and out; throws on a non-2xx answer. */
export async function rest(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  user = 'admin',
): Promise<unknown> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      authorization: `basic ${Buffer.from(`${user}:`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}

/** Writes docs/console/<name>.png when UPDATE_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
}

/** On a failure: the page as it was, under the system's temp directory (path on stderr). */
export async function failureShot(tab: Tab): Promise<void> {
  const path = join(tmpdir(), `console-failure-${Date.now()}.png`)
  try {
    await tab.page.screenshot({ path, fullPage: true })
    process.stderr.write(`# failure screenshot: ${path}\n# page errors: ${JSON.stringify(tab.errors)}\n`)
  } catch {}
}

/** Runs `fn` on a fresh server and tab, then checks the page stayed on its origin, error-free. */
export async function withConsole(
  fn: (server: TestServer, tab: Tab) => Promise<void>,
  options: Parameters<typeof startTestServer>[0] = {},
): Promise<void> {
  const server = await startTestServer(options)
  const tab = await openTab(server)
  try {
    await fn(server, tab)
    assert.deepEqual(tab.foreign, [], 'requests to other origins')
    assert.deepEqual(tab.errors, [], 'errors in the page')
  } catch (err) {
    await failureShot(tab)
    throw err
  } finally {
    await tab.context.close()
    await server.stop()
  }
}
