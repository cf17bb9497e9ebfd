// Aggregates: an editor for /v1/aggregates (operations, resource type and search, groupby,
// granularity, range, fill), the result charted per group. The whole query lives in the URL.
import { html } from 'htm/preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, get, qs } from '../api.js'
import { Chart, columns } from '../chart.js'
import { fromLocalInput, toLocalInput } from '../format.js'
import { href, navigate } from '../route.js'

/** @typedef {import('../route.js').Route} Route */
/** @typedef {{ label: string, series: Array<{ label: string, measures: Array<[string, number, number]> }> }} Group */

const EXAMPLE = '(aggregate mean (metric cpu mean))'

/** Leaves of a result's `measures` (nested by resource, metric and method) as labelled series. */
function flatten(
  /** @type {unknown} */ node,
  /** @type {string[]} */ path,
  /** @type {Group['series']} */ out,
) {
  if (Array.isArray(node))
    out.push({ label: path.join(' / ') || 'aggregated', measures: /** @type {any} */ (node) })
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) flatten(v, [...path, k], out)
  return out
}

/** Both answer shapes (with and without groupby) as groups. */
export function toGroups(/** @type {any} */ result) {
  if (Array.isArray(result)) {
    return result.map((g) => ({
      label: Object.entries(g.group ?? {})
        .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
        .join(', '),
      series: flatten(g.measures?.measures, [], []),
    }))
  }
  return [{ label: '', series: flatten(result?.measures, [], []) }]
}

/** @param {{ route: Route }} props */
export function AggregatesPage({ route }) {
  const q = route.query
  const form = {
    op: q.get('op') ?? EXAMPLE,
    type: q.get('type') ?? 'generic',
    search: q.get('search') ?? '',
    groupby: q.getAll('groupby').join(', '),
    gran: q.get('gran') ?? '',
    start: q.get('start') ?? '',
    stop: q.get('stop') ?? '',
    fill: q.get('fill') ?? '',
    mode: q.get('mode') ?? 'resources',
  }
  const [types, setTypes] = useState(/** @type {Array<{ name: string }>} */ ([]))
  const [result, setResult] = useState(/** @type {Group[] | undefined} */ (undefined))
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    get('/v1/resource_type').then(setTypes, () => {})
  }, [])

  const run = q.has('op')
  useEffect(() => {
    if (!run) return
    let stale = false
    setBusy(true)
    const groupby = form.groupby
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    const query = qs([
      ['granularity', form.gran],
      ['start', form.start],
      ['stop', form.stop],
      ['fill', form.fill],
      ...groupby.map((g) => /** @type {[string, string]} */ (['groupby', g])),
    ])
    /** @type {Record<string, unknown>} */
    const body = { operations: form.op }
    if (form.mode === 'resources') {
      body.resource_type = form.type
      body.search = form.search || {} // no filter: every resource of the type
    }
    api('POST', `/v1/aggregates${query}`, body).then(
      (r) => {
        if (stale) return
        setResult(toGroups(r))
        setError('')
        setBusy(false)
      },
      (e) => {
        if (stale) return
        setResult(undefined)
        setError(e.message)
        setBusy(false)
      },
    )
    return () => {
      stale = true
    }
  }, [q.toString()])

  const submit = (/** @type {SubmitEvent} */ e) => {
    e.preventDefault()
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target))
    const v = (/** @type {string} */ k) => String(f.get(k) ?? '').trim()
    navigate(
      href('aggregates', {
        op: v('op'),
        mode: v('mode'),
        type: v('type'),
        search: v('search'),
        groupby: v('groupby')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        gran: v('gran'),
        start: fromLocalInput(v('start')),
        stop: fromLocalInput(v('stop')),
        fill: v('fill'),
      }),
    )
  }
  return html`<section aria-labelledby="ag-h">
    <h1 id="ag-h">Aggregates</h1>
    <form class="editor" onSubmit=${submit}>
      <label class="wide">Operations
        <textarea name="op" rows="3" spellcheck="false" required>${form.op}</textarea>
      </label>
      <fieldset class="wide inline-set">
        <legend>Metrics by</legend>
        <label class="inline"><input type="radio" name="mode" value="resources" checked=${form.mode === 'resources'} /> resource search (names in <code>metric</code>)</label>
        <label class="inline"><input type="radio" name="mode" value="ids" checked=${form.mode === 'ids'} /> metric ids</label>
      </fieldset>
      <label>Resource type
        <select name="type" value=${form.type}>
          ${(types.length ? types : [{ name: form.type }]).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      </label>
      <label>Search <input name="search" value=${form.search} placeholder="project_id = 'p1'" spellcheck="false" /></label>
      <label>Group by <input name="groupby" value=${form.groupby} placeholder="host, project_id" spellcheck="false" /></label>
      <label>Granularity (s) <input name="gran" value=${form.gran} inputmode="decimal" /></label>
      <label>From <input name="start" type="datetime-local" step="1" value=${toLocalInput(form.start)} /></label>
      <label>To <input name="stop" type="datetime-local" step="1" value=${toLocalInput(form.stop)} /></label>
      <label>Fill <input name="fill" value=${form.fill} placeholder="null, 0, ffill, dropna" /></label>
      <div class="wide"><button type="submit" disabled=${busy}>Run</button> <span class="muted">The query is kept in the page's URL: share it.</span></div>
    </form>
    ${error && html`<p class="error" role="alert" data-testid="aggregates-error">${error}</p>`}
    ${result && html`<${Results} groups=${result} />`}
  </section>`
}

function Results(/** @type {{ groups: Group[] }} */ { groups }) {
  return html`<div data-testid="aggregates-result">${groups.map(
    (g) => html`<${GroupChart} group=${g} />`,
  )}</div>`
}

function GroupChart(/** @type {{ group: Group }} */ { group }) {
  const series = useMemo(
    () =>
      group.series.map((s) => {
        const [x, y] = columns(s.measures)
        return { label: s.label, x, y }
      }),
    [group],
  )
  const title = group.label || 'Result'
  if (!series.some((s) => s.x.length)) return html`<p class="muted">${title}: no measures.</p>`
  return html`<section class="group" aria-label=${title}><${Chart} series=${series} title=${title} height=${220} /></section>`
}
