// Metrics: measures of one or more metrics overlaid, with the aggregation method, granularity
// and time range (drag to zoom, pan) kept in the URL; the archive policy and its retention; a
// table view and a CSV download.
import { html } from 'htm/preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { get, qs } from '../api.js'
import { Chart, columns } from '../chart.js'
import {
  cell,
  csv,
  download,
  duration,
  fromLocalInput,
  RANGES,
  timedeltaSeconds,
  toLocalInput,
} from '../format.js'
import { href, navigate, replaceRoute } from '../route.js'

/** Rows the table view shows; the CSV has all of them. */
const TABLE_ROWS = 1000

/**
 * @typedef {{ id: string, name: string | null, resource_id: string | null, unit: string | null,
 *   archive_policy: { name: string, back_window: number, aggregation_methods: string[],
 *     definition: Array<{ granularity: string, points: number, timespan: string }> } }} Metric
 * @typedef {import('../route.js').Route} Route
 */

/** @param {{ route: Route }} props */
export function MetricsPage({ route }) {
  const ids = route.query.getAll('id')
  const agg = route.query.get('agg') ?? 'mean'
  const gran = route.query.get('gran') ?? ''
  const start = route.query.get('start') ?? ''
  const stop = route.query.get('stop') ?? ''
  const view = route.query.get('view') ?? 'chart'
  const [metrics, setMetrics] = useState(/** @type {Metric[]} */ ([]))
  const [data, setData] = useState(
    /** @type {Array<Array<[string, number, number]>> | undefined} */ (undefined),
  )
  const [error, setError] = useState('')
  const [refreshN, setRefreshN] = useState(0)

  const set = (/** @type {Record<string, string | string[]>} */ changes, replace = false) => {
    const q = new URLSearchParams(route.query)
    for (const [k, v] of Object.entries(changes)) {
      q.delete(k)
      for (const x of Array.isArray(v) ? v : [v]) if (x) q.append(k, x)
    }
    const url = href('metrics', q)
    replace ? replaceRoute(url) : navigate(url)
  }

  const idKey = ids.join(',')
  useEffect(() => {
    if (ids.length === 0) return
    Promise.all(ids.map((id) => get(`/v1/metric/${encodeURIComponent(id)}`))).then(setMetrics, (e) =>
      setError(e.message),
    )
  }, [idKey])

  const granularities =
    metrics[0]?.archive_policy.definition.map((d) => timedeltaSeconds(d.granularity)) ?? []
  const methods = metrics[0]?.archive_policy.aggregation_methods ?? []
  useEffect(() => {
    if (ids.length === 0 || metrics.length !== ids.length) return
    let stale = false
    setData(undefined)
    const query = qs([
      ['aggregation', agg],
      ['granularity', gran],
      ['start', start],
      ['stop', stop],
      ['refresh', refreshN > 0 ? 'true' : ''],
    ])
    Promise.all(ids.map((id) => get(`/v1/metric/${encodeURIComponent(id)}/measures${query}`))).then(
      (d) => {
        if (stale) return
        setData(d)
        setError('')
      },
      (e) => {
        if (stale) return
        setData([])
        setError(e.message)
      },
    )
    return () => {
      stale = true
    }
  }, [idKey, metrics, agg, gran, start, stop, refreshN])

  const label = (/** @type {Metric} */ m) => m.name ?? m.id
  const series = useMemo(
    () =>
      (data ?? []).map((d, i) => {
        const [x, y] = columns(d)
        return { label: metrics[i] ? label(metrics[i]) : ids[i], x, y }
      }),
    [data],
  )
  const onRange = (/** @type {number} */ a, /** @type {number} */ b) =>
    set({ start: new Date(a * 1000).toISOString(), stop: new Date(b * 1000).toISOString() })

  if (ids.length === 0)
    return html`<${MetricPicker} onPick=${(/** @type {string[]} */ p) => set({ id: p })} />`
  return html`<section aria-labelledby="m-h">
    <div class="page-head">
      <h1 id="m-h">Metrics</h1>
      <a href=${href('metrics')}>Choose other metrics</a>
    </div>
    <form class="toolbar" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()} aria-label="Query">
      <label>Aggregation
        <select value=${agg} onChange=${(/** @type {Event} */ e) => set({ agg: /** @type {HTMLSelectElement} */ (e.target).value })}>
          ${(methods.includes(agg) ? methods : [agg, ...methods]).map((m) => html`<option value=${m}>${m}</option>`)}
        </select>
      </label>
      <label>Granularity
        <select value=${gran} onChange=${(/** @type {Event} */ e) => set({ gran: /** @type {HTMLSelectElement} */ (e.target).value })}>
          <option value="">all</option>
          ${granularities.map((g) => html`<option value=${String(g)}>${duration(g)}</option>`)}
        </select>
      </label>
      <label>Last
        <select value="" onChange=${(/** @type {Event} */ e) => {
          const s = Number(/** @type {HTMLSelectElement} */ (e.target).value)
          set({ start: s ? new Date(Date.now() - s * 1000).toISOString() : '', stop: '' })
        }}>
          <option value="">choose…</option>
          ${RANGES.map(([l, s]) => html`<option value=${String(s)}>${l}</option>`)}
          <option value="0">all time</option>
        </select>
      </label>
      <label>From <input type="datetime-local" step="1" value=${toLocalInput(start)} onChange=${(/** @type {Event} */ e) => set({ start: fromLocalInput(/** @type {HTMLInputElement} */ (e.target).value) })} /></label>
      <label>To <input type="datetime-local" step="1" value=${toLocalInput(stop)} onChange=${(/** @type {Event} */ e) => set({ stop: fromLocalInput(/** @type {HTMLInputElement} */ (e.target).value) })} /></label>
      <button type="button" onClick=${() => setRefreshN((n) => n + 1)} title="Process the metric's backlog first (refresh=true)">Refresh</button>
      <button type="button" onClick=${() => set({ view: view === 'table' ? 'chart' : 'table' }, true)} aria-pressed=${view === 'table'}>Table view</button>
      <button type="button" disabled=${!data?.length} onClick=${() => download('measures.csv', toCsv(ids, metrics, data ?? []))}>Download CSV</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      data === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : view === 'table'
          ? html`<${MeasuresTable} ids=${ids} metrics=${metrics} data=${data} />`
          : series.some((s) => s.x.length > 0)
            ? html`<${Chart} series=${series} title=${`${agg} of ${series.map((s) => s.label).join(', ')}`} onRange=${onRange} />`
            : html`<p class="muted" data-testid="no-measures">No measures in this range.</p>`
    }
    <section aria-labelledby="mm-h">
      <h2 id="mm-h">Metrics and archive policies</h2>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Metric</th><th scope="col">Resource</th><th scope="col">Unit</th><th scope="col">Archive policy</th><th scope="col">Retention</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
        <tbody>${metrics.map(
          (m) => html`<tr>
            <td>${label(m)} <code class="muted">${m.id}</code></td>
            <td>${m.resource_id ? html`<a href=${href(`resource/generic/${m.resource_id}`)}><code>${m.resource_id}</code></a>` : '—'}</td>
            <td>${cell(m.unit)}</td>
            <td>${m.archive_policy.name}</td>
            <td>${m.archive_policy.definition.map(
              (d) =>
                html`<div>${duration(timedeltaSeconds(d.granularity))} × ${d.points} = ${duration(timedeltaSeconds(d.timespan))}</div>`,
            )}</td>
            <td><button type="button" class="link" onClick=${() => set({ id: ids.filter((x) => x !== m.id) })}>Remove</button></td>
          </tr>`,
        )}</tbody>
      </table></div>
    </section>
  </section>`
}

/** Rows merged on (timestamp, granularity): one column per metric. */
function merged(/** @type {Array<Array<[string, number, number]>>} */ data) {
  /** @type {Map<string, Array<number | null>>} */
  const rows = new Map()
  data.forEach((d, i) => {
    for (const [ts, g, v] of d) {
      const k = `${ts}\u0000${g}`
      let r = rows.get(k)
      if (!r) {
        r = new Array(data.length).fill(null)
        rows.set(k, r)
      }
      r[i] = v
    }
  })
  return [...rows.entries()]
    .map(([k, r]) => {
      const [ts, g] = k.split('\u0000')
      return /** @type {[string, number, Array<number | null>]} */ ([ts, Number(g), r])
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : b[1] - a[1]))
}

/** @param {string[]} ids @param {Metric[]} metrics @param {Array<Array<[string, number, number]>>} data */
function toCsv(ids, metrics, data) {
  const header = ['timestamp', 'granularity', ...ids.map((id, i) => metrics[i]?.name ?? id)]
  return csv(
    header,
    merged(data).map(([ts, g, r]) => [ts, g, ...r]),
  )
}

/** @param {{ ids: string[], metrics: Metric[], data: Array<Array<[string, number, number]>> }} props */
function MeasuresTable({ ids, metrics, data }) {
  const rows = merged(data)
  return html`<div class="table-wrap tall"><table data-testid="measures-table">
    <caption class="visually-hidden">Measures</caption>
    <thead><tr><th scope="col">Timestamp</th><th scope="col" class="num">Granularity</th>${ids.map(
      (id, i) => html`<th scope="col" class="num">${metrics[i]?.name ?? id}</th>`,
    )}</tr></thead>
    <tbody>${rows
      .slice(0, TABLE_ROWS)
      .map(
        ([ts, g, r]) =>
          html`<tr><td>${ts}</td><td class="num">${duration(g)}</td>${r.map((v) => html`<td class="num">${cell(v)}</td>`)}</tr>`,
      )}</tbody>
  </table></div>
  ${rows.length > TABLE_ROWS && html`<p class="muted">First ${TABLE_ROWS} of ${rows.length} rows; the CSV has all.</p>`}`
}

/** No metric chosen yet: the latest metrics, or an id typed in. */
function MetricPicker(/** @type {{ onPick: (ids: string[]) => void }} */ { onPick }) {
  const [list, setList] = useState(/** @type {Metric[] | undefined} */ (undefined))
  const [chosen, setChosen] = useState(/** @type {string[]} */ ([]))
  const [error, setError] = useState('')
  const [typed, setTyped] = useState('')
  useEffect(() => {
    get('/v1/metric?limit=100&sort=name:asc').then(setList, (e) => setError(e.message))
  }, [])
  const toggle = (/** @type {string} */ id) =>
    setChosen(chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id])
  return html`<section aria-labelledby="mp-h">
    <h1 id="mp-h">Metrics</h1>
    <form class="toolbar" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault()
      const all = [...chosen, ...typed.split(/[\s,]+/).filter(Boolean)]
      if (all.length) onPick(all)
    }}>
      <label class="grow">Metric ids <input value=${typed} onInput=${(/** @type {Event} */ e) => setTyped(/** @type {HTMLInputElement} */ (e.target).value)} placeholder="uuid, uuid…" spellcheck="false" /></label>
      <button type="submit">Chart</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      list === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : list.length === 0
          ? html`<p class="muted">No metrics yet.</p>`
          : html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">Chart</th><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Archive policy</th></tr></thead>
            <tbody>${list.map(
              (m) => html`<tr>
                <td><input type="checkbox" aria-label=${`Chart ${m.name ?? m.id}`} checked=${chosen.includes(m.id)} onChange=${() => toggle(m.id)} /></td>
                <td><a href=${href('metrics', { id: m.id })}>${m.name ?? '(unnamed)'}</a></td>
                <td><code>${m.id}</code></td><td>${m.archive_policy.name}</td>
              </tr>`,
            )}</tbody></table></div>`
    }
  </section>`
}
