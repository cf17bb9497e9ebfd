/**
 * The web console end to end in real Chromium against a real gnocchi-api (one server per test):
 * sign in, data pushed through the REST API and charted (43 200 points, timed), resource search
 * with the server's error for a bad filter, history, an aggregates query with groupby kept in
 * the URL, the backlog draining live, archive policies as admin and as a user (keystone mode's
 * login: browser-keystone.test.ts). No request may leave the server's origin and the page may log no error (a CSP
 * violation is one). `UPDATE_SCREENSHOTS=1` rewrites docs/console/*.png from these pages.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, describe, test } from 'node:test'
import { requireChromium } from '../../src/testing/test-tools.ts'
import { startTestServer, type TestServer } from '../api/_harness.ts'
import { closeBrowser, failureShot, loginBasic, openTab, rest, screenshot, withConsole } from './_browser.ts'

const skip = requireChromium()

// The page's globals used by the callbacks that run in the browser (the tsconfig has no DOM lib).
interface PageElement {
  readonly textContent: string | null
  readonly dataset: Record<string, string | undefined>
}
declare const document: {
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): { readonly length: number }
  readonly documentElement: PageElement & { readonly scrollWidth: number }
  readonly body: unknown
  readonly activeElement: (PageElement & { readonly id: string }) | null
}
declare const location: { readonly hash: string }
declare const innerWidth: number
declare function getComputedStyle(element: unknown): { readonly backgroundColor: string }

after(closeBrowser)

const policy = (name: string, granularity: string, points: number) => ({
  name,
  definition: [{ granularity, points }],
  aggregation_methods: ['mean', 'max', 'min'],
})

describe('web console', { skip }, () => {
  test('sign in, push measures through the API, see 43 200 points charted, zoom, table, CSV', async () => {
    await withConsole(async (server, tab) => {
      await rest(server, 'POST', '/v1/archive_policy', policy('per-second', '1s', 43_200))
      const m = (await rest(server, 'POST', '/v1/metric', {
        archive_policy_name: 'per-second',
        name: 'temperature',
      })) as { id: string }
      const m2 = (await rest(server, 'POST', '/v1/metric', {
        archive_policy_name: 'per-second',
        name: 'humidity',
      })) as { id: string }
      const t0 = Math.floor(Date.now() / 1000) - 43_200
      const measures = (phase: number) =>
        Array.from({ length: 43_200 }, (_, i) => ({
          timestamp: new Date((t0 + i) * 1000).toISOString(),
          value: Math.round((20 + 5 * Math.sin(i / 600 + phase) + (i % 7) / 10) * 100) / 100,
        }))
      await rest(server, 'POST', `/v1/metric/${m.id}/measures`, measures(0))
      // The second one only has the last hour: overlaid on a joined time axis.
      await rest(server, 'POST', `/v1/metric/${m2.id}/measures`, measures(1).slice(-3600))
      for (const [id, n] of [
        [m.id, 43_200],
        [m2.id, 3600],
      ] as const) {
        const got = (await rest(
          server,
          'GET',
          `/v1/metric/${id}/measures?refresh=true&granularity=1`,
        )) as unknown[]
        assert.equal(got.length, n)
      }

      await loginBasic(tab, server, 'admin')
      const started = Date.now()
      await tab.page.goto(`${server.url}/ui/#/metrics?id=${m.id}&gran=1`)
      const plot = tab.page.locator('.chart-plot[data-render-ms]')
      await plot.waitFor({ timeout: 20_000 })
      const pageMs = Date.now() - started
      const renderMs = Number(await plot.getAttribute('data-render-ms'))
      assert.equal(await plot.getAttribute('data-points'), '43200')
      process.stderr.write(
        `# 43 200 points: chart drawn in ${renderMs} ms, ${pageMs} ms from navigation (fetch + parse + draw)\n`,
      )
      assert.ok(renderMs < 1000, `chart took ${renderMs} ms`)
      await tab.page.getByText('1s × 43200 = 12h').waitFor()

      // Zoom with the keyboard: the range goes into the URL and the chart is redrawn on fewer points.
      await plot.focus()
      await tab.page.keyboard.press('+')
      await tab.page.waitForFunction(
        () => location.hash.includes('start=') && location.hash.includes('stop='),
      )
      await tab.page.waitForFunction(() => {
        const el = document.querySelector('.chart-plot[data-points]')
        return el && Number(el.dataset.points) < 43_200 && Number(el.dataset.points) > 20_000
      })
      await tab.page.getByRole('button', { name: 'Earlier' }).click()
      await tab.page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).get('start'))

      // Two metrics overlaid, then the table and the CSV of both.
      await tab.page.goto(`${server.url}/ui/#/metrics?id=${m.id}&id=${m2.id}&gran=1&agg=max`)
      await tab.page.locator('.chart-plot[data-points="46800"]').waitFor()
      await tab.page.locator('.u-legend').getByText('humidity').waitFor()
      await screenshot(tab.page, 'metrics')
      await tab.page.getByRole('button', { name: 'Table view' }).click()
      const table = tab.page.getByTestId('measures-table')
      await table.waitFor()
      assert.equal(await table.locator('tbody tr').count(), 1000)
      await tab.page.getByText('First 1000 of 43200 rows').waitFor()
      const [download] = await Promise.all([
        tab.page.waitForEvent('download'),
        tab.page.getByRole('button', { name: 'Download CSV' }).click(),
      ])
      const csv = readFileSync(await download.path(), 'utf8')
        .trimEnd()
        .split('\r\n')
      assert.equal(csv[0], 'timestamp,granularity,temperature,humidity')
      assert.equal(csv.length, 43_201)
      const at = (phase: number, i: number) => measures(phase).at(i)?.value
      assert.ok(csv[1].endsWith(`,1,${at(0, 0)},`), csv[1])
      assert.ok(csv[43_200].endsWith(`,1,${at(0, -1)},${at(1, -1)}`), csv[43_200])
    })
  })

  test('resources: filter search, the server’s error for a wrong filter, history as a diff', async () => {
    await withConsole(async (server, tab) => {
      await rest(server, 'POST', '/v1/archive_policy', policy('minute', '60s', 60))
      await rest(server, 'POST', '/v1/resource_type', {
        name: 'server',
        attributes: { host: { type: 'string', required: true }, cpu: { type: 'number', required: false } },
      })
      const mk = (id: string, host: string, cpu: number) =>
        rest(server, 'POST', '/v1/resource/server', {
          id,
          host,
          cpu,
          metrics: { load: { archive_policy_name: 'minute' } },
        })
      await mk('web-1', 'a', 2)
      await mk('web-2', 'b', 4)
      await mk('web-3', 'a', 8)
      for (let i = 1; i <= 6; i++) await mk(`db-${i}`, 'z', 1)
      await rest(server, 'PATCH', '/v1/resource/server/web-1', { host: 'c', cpu: 3 })

      await loginBasic(tab, server, 'admin')
      await tab.page.goto(`${server.url}/ui/#/resources?type=server`)
      const rows = tab.page.getByTestId('resources').locator('tbody tr')
      await tab.page.getByTestId('resources').getByText('web-2').waitFor()
      // Keyboard: after a page change focus is on the content; on a fresh load the first Tab
      // reaches the skip link, which moves it there.
      assert.equal(await tab.page.evaluate(() => document.activeElement?.id), 'main')
      assert.equal(await tab.page.title(), 'Resources · Gnocchi console')
      await tab.page.reload()
      await tab.page.getByTestId('resources').getByText('web-2').waitFor()
      await tab.page.keyboard.press('Tab')
      assert.equal(await tab.page.evaluate(() => document.activeElement?.textContent), 'Skip to content')
      await tab.page.keyboard.press('Enter')
      assert.equal(await tab.page.evaluate(() => document.activeElement?.id), 'main')
      // The test server's max_limit is 7: pages of 7 and 2, linked by upstream's Link header.
      assert.equal(await rows.count(), 7)
      await tab.page.getByRole('button', { name: 'Next' }).click()
      await tab.page.getByTestId('resources').getByText('db-6').waitFor()
      assert.equal(await rows.count(), 2)
      assert.ok(await tab.page.getByRole('button', { name: 'Next' }).isDisabled())
      await tab.page.getByRole('button', { name: 'Previous' }).click()
      await tab.page.getByTestId('resources').getByText('web-1').waitFor()
      assert.equal(await rows.count(), 7)
      await tab.page.getByLabel('Filter').fill("host = 'a' and cpu >= 4")
      await tab.page.getByRole('button', { name: 'Search' }).click()
      await tab.page.waitForFunction(
        () => document.querySelectorAll('[data-testid=resources] tbody tr').length === 1,
      )
      await tab.page.getByTestId('resources').getByText('web-3').waitFor()
      assert.match(tab.page.url(), /q=host/)
      await screenshot(tab.page, 'resources')

      // The same bad filter through the API: the console shows the server's own description.
      const bad = "host == 'a'"
      const res = await fetch(`${server.url}/v1/search/resource/server?filter=${encodeURIComponent(bad)}`, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          authorization: `basic ${Buffer.from('admin:').toString('base64')}`,
        },
      })
      assert.equal(res.status, 400)
      const description = ((await res.json()) as { description: string }).description
      await tab.page.getByLabel('Filter').fill(bad)
      await tab.page.getByRole('button', { name: 'Search' }).click()
      const error = tab.page.getByTestId('search-error')
      await error.waitFor()
      assert.equal(await error.textContent(), `400 Bad Request: ${description}`)

      await tab.page.getByLabel('Filter').fill('')
      await tab.page.getByRole('button', { name: 'Search' }).click()
      await tab.page.getByRole('row', { name: /web-1/ }).getByRole('link').click()
      const history = tab.page.getByTestId('history')
      await history.getByText('Revision 2').waitFor()
      const diff = history.locator('table.diff tbody tr')
      assert.deepEqual(
        (await diff.allTextContents()).sort(),
        ['cpu23', 'hostac'],
        'the second revision changed host and cpu',
      )
      await tab.page.getByRole('link', { name: 'load' }).waitFor()
      await screenshot(tab.page, 'resource')
    })
  })

  test('aggregates: groupby query charted per group, kept in the URL', async () => {
    await withConsole(async (server, tab) => {
      await rest(server, 'POST', '/v1/archive_policy', policy('minute', '60s', 600))
      await rest(server, 'POST', '/v1/resource_type', {
        name: 'vm',
        attributes: { host: { type: 'string' } },
      })
      const t0 = Math.floor(Date.now() / 60_000) * 60 - 3600
      for (const [i, host] of ['compute-a', 'compute-a', 'compute-b'].entries()) {
        const r = (await rest(server, 'POST', '/v1/resource/vm', {
          id: `vm-${i}`,
          host,
          metrics: { cpu: { archive_policy_name: 'minute' } },
        })) as { metrics: { cpu: string } }
        const points = Array.from({ length: 60 }, (_, k) => ({
          timestamp: new Date((t0 + k * 60) * 1000).toISOString(),
          value: 10 * (i + 1) + (k % 10),
        }))
        await rest(server, 'POST', `/v1/metric/${r.metrics.cpu}/measures`, points)
        await rest(server, 'GET', `/v1/metric/${r.metrics.cpu}/measures?refresh=true`)
      }

      await loginBasic(tab, server, 'admin')
      await tab.page.goto(`${server.url}/ui/#/aggregates`)
      await tab.page.getByLabel('Operations').fill('(aggregate mean (metric cpu mean))')
      await tab.page.getByLabel('Resource type').selectOption('vm')
      await tab.page.getByLabel('Group by').fill('host')
      await tab.page.getByRole('button', { name: 'Run' }).click()
      const result = tab.page.getByTestId('aggregates-result')
      await result.getByRole('region', { name: 'host = "compute-b"' }).waitFor()
      await result.getByRole('region', { name: 'host = "compute-a"' }).waitFor()
      assert.equal(await result.locator('.chart-plot').count(), 2)
      await screenshot(tab.page, 'aggregates')
      const url = tab.page.url()
      assert.match(url, /groupby=host/)
      assert.match(url, /type=vm/)

      // The URL alone brings the same view back (a shared link; a new tab signs in first).
      const other = await tab.context.newPage()
      await other.goto(url)
      await other.getByLabel('User name').fill('admin')
      await other.getByRole('button', { name: 'Sign in' }).click()
      await other
        .getByTestId('aggregates-result')
        .getByRole('region', { name: 'host = "compute-a"' })
        .waitFor()
      assert.equal(await other.getByLabel('Group by').inputValue(), 'host')
      await other.close()

      // The server's error for a wrong operation is shown as it is.
      await tab.page.getByLabel('Operations').fill('(aggregate nope (metric cpu mean))')
      await tab.page.getByRole('button', { name: 'Run' }).click()
      await tab.page
        .getByTestId('aggregates-error')
        .getByText(/400 Bad Request/)
        .waitFor()
    })
  })

  test('status: the backlog fills, then drains live when metricd runs; dark theme; narrow screen', async () => {
    const server = await startTestServer({ embeddedMetricd: false })
    let metricd: TestServer | undefined
    const tab = await openTab(server)
    try {
      await rest(server, 'POST', '/v1/archive_policy', policy('minute', '60s', 60))
      const t0 = Math.floor(Date.now() / 1000) - 3600
      for (let i = 0; i < 10; i++) {
        const m = (await rest(server, 'POST', '/v1/metric', { archive_policy_name: 'minute' })) as {
          id: string
        }
        await rest(
          server,
          'POST',
          `/v1/metric/${m.id}/measures`,
          Array.from({ length: 50 }, (_, k) => ({
            timestamp: new Date((t0 + k * 30) * 1000).toISOString(),
            value: k,
          })),
        )
      }
      await loginBasic(tab, server, 'admin')
      // The file backlog counts one per batch posted (upstream's report), here one per metric.
      const measures = tab.page.getByTestId('backlog-measures')
      await tab.page.waitForFunction(
        () => document.querySelector('[data-testid=backlog-measures]')?.textContent === '10',
      )
      assert.equal(await tab.page.getByTestId('backlog-metrics').textContent(), '10')
      assert.equal(await tab.page.getByTestId('backlog-per-metric').locator('tbody tr').count(), 10)
      await tab.page.locator('.chart-plot').waitFor()

      // A metricd on the same data directory processes the backlog; the page sees it drain.
      metricd = await startTestServer({ dataDir: server.dataDir, embeddedMetricd: true })
      await tab.page.waitForFunction(
        () => document.querySelector('[data-testid=backlog-measures]')?.textContent === '0',
        undefined,
        { timeout: 30_000 },
      )
      assert.equal(await measures.textContent(), '0')
      await tab.page.getByText('Nothing waiting.').waitFor()
      await tab.page
        .getByRole('cell', { name: 'now' })
        .or(tab.page.getByRole('cell', { name: /s ago/ }))
        .first()
        .waitFor()
      await screenshot(tab.page, 'status-light')

      // The page follows prefers-color-scheme; the toggle overrides it.
      await tab.page.emulateMedia({ colorScheme: 'dark' })
      const background = () => tab.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
      assert.equal(await background(), 'rgb(13, 17, 23)')
      await screenshot(tab.page, 'status-dark')
      await tab.page.getByLabel('Theme').selectOption('light')
      await tab.page.waitForFunction(() => document.documentElement.dataset.theme === 'light')
      assert.equal(await background(), 'rgb(255, 255, 255)')
      await tab.page.getByLabel('Theme').selectOption('auto')
      await tab.page.waitForFunction(() => document.documentElement.dataset.theme === undefined)
      assert.equal(await background(), 'rgb(13, 17, 23)')

      await tab.page.setViewportSize({ width: 390, height: 844 })
      await tab.page.getByTestId('backlog-measures').waitFor()
      const overflow = Number(
        await tab.page.evaluate(() => document.documentElement.scrollWidth - innerWidth),
      )
      assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px screen`)
      await screenshot(tab.page, 'status-narrow')

      // The CSP holds in a real browser: a script of the page cannot reach another origin.
      const other = await tab.page.evaluate(() =>
        fetch('http://127.0.0.2:9/x').then(
          () => 'sent',
          () => 'blocked',
        ),
      )
      assert.equal(other, 'blocked')
      assert.ok(
        tab.errors.some((e) => /Content Security Policy/.test(e) && /connect-src/.test(e)),
        String(tab.errors),
      )
      tab.errors.length = 0
      assert.deepEqual(tab.foreign, [])
      assert.deepEqual(tab.errors, [])
    } catch (err) {
      await failureShot(tab)
      throw err
    } finally {
      await tab.context.close()
      await metricd?.stop()
      await server.stop()
    }
  })

  test('archive policies: an admin creates and deletes, a user is refused with the API’s 403', async () => {
    await withConsole(async (server, tab) => {
      tab.page.on('dialog', (d) => void d.accept())
      await loginBasic(tab, server, 'admin')
      await tab.page.goto(`${server.url}/ui/#/policies`)
      await tab.page.getByTestId('policies').waitFor()
      await tab.page.getByLabel('Name', { exact: true }).fill('console-made')
      await tab.page.getByRole('button', { name: 'Add a granularity' }).click()
      await tab.page.getByRole('button', { name: 'Create archive policy' }).click()
      await tab.page.getByRole('status').getByText('Archive policy created.').waitFor()
      const made = (await rest(server, 'GET', '/v1/archive_policy/console-made')) as {
        definition: Array<{ granularity: string; points: number }>
        aggregation_methods: string[]
      }
      assert.deepEqual(
        made.definition.map((d) => [d.granularity, d.points]),
        [
          ['0:01:00', 1440],
          ['1:00:00', 720],
        ],
      )
      assert.deepEqual([...made.aggregation_methods].sort(), ['max', 'mean', 'min'])
      await tab.page.getByRole('row', { name: /console-made/ }).waitFor()
      await tab.page.getByLabel('Rule name').fill('disks')
      await tab.page.getByLabel('Metric pattern').fill('disk.*')
      await tab.page
        .getByRole('combobox', { name: 'Archive policy', exact: true })
        .selectOption('console-made')
      await tab.page.getByRole('button', { name: 'Create rule' }).click()
      await tab.page.getByTestId('rules').getByText('disk.*').waitFor()
      await screenshot(tab.page, 'policies')
      await tab.page.getByRole('button', { name: 'Delete rule disks' }).click()
      await tab.page.getByRole('status').getByText('Deleted disks.').waitFor()
      await tab.page.getByRole('button', { name: 'Delete archive policy console-made' }).click()
      await tab.page.getByRole('status').getByText('Deleted console-made.').waitFor()
      assert.equal(await tab.page.getByRole('row', { name: /console-made/ }).count(), 0)

      // A user who is not admin: the API refuses, the console says so and nothing changed.
      await tab.page.getByRole('button', { name: 'Sign out' }).click()
      await loginBasic(tab, server, 'foobar')
      await tab.page.goto(`${server.url}/ui/#/policies`)
      await tab.page.getByTestId('policies').waitFor()
      await tab.page.getByLabel('Name', { exact: true }).fill('not-allowed')
      await tab.page.getByRole('button', { name: 'Create archive policy' }).click()
      await tab.page
        .getByTestId('policy-error')
        .getByText(/^403 Forbidden/)
        .waitFor()
      const list = (await rest(server, 'GET', '/v1/archive_policy')) as Array<{ name: string }>
      assert.ok(!list.some((p) => p.name === 'not-allowed'))
      tab.errors.length = 0 // the browser logs the 403 of the refused request
    })
  })
})
