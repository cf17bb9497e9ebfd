// Resources: the types, a searchable table (the string filter language, the server's error shown
// inline), paging by marker, and one resource's attributes, metrics and revision history.
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { apiPage, get, qs } from '../api.js'
import { cell } from '../format.js'
import { href, navigate } from '../route.js'

const PAGE_SIZE = 20
const BASE_COLUMNS = ['id', 'original_resource_id', 'project_id', 'user_id', 'started_at']
/** Bookkeeping attributes a diff of revisions leaves out. */
const REVISION_KEYS = new Set(['revision_start', 'revision_end', 'metrics'])

/** @typedef {import('../route.js').Route} Route */
/** @typedef {Record<string, any>} Resource */

/** @param {{ route: Route }} props */
export function ResourcesPage({ route }) {
  const type = route.query.get('type') || 'generic'
  const filter = route.query.get('q') ?? ''
  const marker = route.query.get('marker') ?? ''
  const [types, setTypes] = useState(
    /** @type {Array<{ name: string, attributes: Record<string, unknown> }>} */ ([]),
  )
  const [rows, setRows] = useState(/** @type {Resource[] | undefined} */ (undefined))
  const [hasNext, setHasNext] = useState(false)
  const [error, setError] = useState('')
  const [draft, setDraft] = useState(filter)
  /** Markers of the pages before this one, for "Previous". */
  const [trail, setTrail] = useState(/** @type {string[]} */ ([]))

  useEffect(() => {
    get('/v1/resource_type').then(setTypes, (e) => setError(e.message))
  }, [])
  useEffect(() => setDraft(filter), [filter])
  useEffect(() => {
    let stale = false
    setRows(undefined)
    const page = qs([
      ['limit', PAGE_SIZE],
      ['marker', marker],
      ['sort', 'started_at:asc'],
      ['filter', filter],
    ])
    const call = filter
      ? apiPage('POST', `/v1/search/resource/${encodeURIComponent(type)}${page}`)
      : apiPage('GET', `/v1/resource/${encodeURIComponent(type)}${page}`)
    call.then(
      (r) => {
        if (stale) return
        setRows(r.data)
        setHasNext(r.hasNext)
        setError('')
      },
      (e) => {
        if (stale) return
        setRows([])
        setError(e.message)
      },
    )
    return () => {
      stale = true
    }
  }, [type, filter, marker])

  const go = (/** @type {Record<string, string>} */ q) =>
    navigate(href('resources', { type, q: filter, marker, ...q }))
  const typeAttrs = Object.keys(types.find((t) => t.name === type)?.attributes ?? {})
  const columns = [...BASE_COLUMNS, ...typeAttrs]
  const search = (/** @type {Event} */ e) => {
    e.preventDefault()
    setTrail([])
    go({ q: draft.trim(), marker: '' })
  }
  return html`<section aria-labelledby="res-h">
    <h1 id="res-h">Resources</h1>
    <form class="toolbar" onSubmit=${search} role="search">
      <label>Type
        <select value=${type} onChange=${(/** @type {Event} */ e) => {
          setTrail([])
          navigate(href('resources', { type: /** @type {HTMLSelectElement} */ (e.target).value }))
        }}>
          ${(types.length ? types : [{ name: type }]).map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      </label>
      <label class="grow">Filter
        <input name="filter" value=${draft} placeholder="host = 'a' and cpu >= 2" spellcheck="false"
          aria-describedby="filter-help" onInput=${(/** @type {Event} */ e) => setDraft(/** @type {HTMLInputElement} */ (e.target).value)} />
      </label>
      <button type="submit">Search</button>
    </form>
    <p id="filter-help" class="muted">The API's filter language: <code>attr = 'value'</code>, <code>${'< <= > >= != like in'}</code>, <code>and</code>, <code>or</code>, <code>not</code>.</p>
    ${error && html`<p class="error" role="alert" data-testid="search-error">${error}</p>`}
    ${
      rows === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<div class="table-wrap"><table data-testid="resources">
            <caption class="visually-hidden">Resources of type ${type}</caption>
            <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
            <tbody>${rows.map(
              (r) =>
                html`<tr>${columns.map((c) =>
                  c === 'id'
                    ? html`<td><a href=${href(`resource/${type}/${r.id}`)}><code>${r.id}</code></a></td>`
                    : html`<td>${cell(r[c])}</td>`,
                )}</tr>`,
            )}</tbody>
          </table></div>
          <p class="muted">${rows.length === 0 ? 'No resources.' : `${rows.length} shown`}</p>`
    }
    <div class="pager">
      <button type="button" disabled=${trail.length === 0} onClick=${() => {
        const prev = trail.slice(0, -1)
        go({ marker: trail[trail.length - 1] ?? '' })
        setTrail(prev)
      }}>Previous</button>
      <button type="button" disabled=${!rows?.length || !hasNext} onClick=${() => {
        if (!rows?.length) return
        setTrail([...trail, marker])
        go({ marker: rows[rows.length - 1].id })
      }}>Next</button>
    </div>
  </section>`
}

/** @param {{ route: Route }} props */
export function ResourcePage({ route }) {
  const [type, id] = route.args
  const [res, setRes] = useState(/** @type {Resource | undefined} */ (undefined))
  const [history, setHistory] = useState(/** @type {Resource[] | undefined} */ (undefined))
  const [error, setError] = useState('')
  useEffect(() => {
    const base = `/v1/resource/${encodeURIComponent(type)}/${encodeURIComponent(id)}`
    get(base).then(setRes, (e) => setError(e.message))
    get(`${base}/history?sort=revision_start:asc`).then(setHistory, (e) => setError(e.message))
  }, [type, id])
  if (error) return html`<p class="error" role="alert">${error}</p>`
  if (!res) return html`<p aria-busy="true">Loading…</p>`
  const metrics = Object.entries(/** @type {Record<string, string>} */ (res.metrics ?? {})).sort()
  return html`<section aria-labelledby="r-h">
    <p><a href=${href('resources', { type })}>← ${type} resources</a></p>
    <h1 id="r-h">${res.original_resource_id ?? res.id}</h1>
    <div class="two-col">
      <section aria-labelledby="attr-h">
        <h2 id="attr-h">Attributes</h2>
        <table class="kv"><tbody>${Object.entries(res)
          .filter(([k]) => k !== 'metrics')
          .map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${cell(v)}</td></tr>`)}</tbody></table>
      </section>
      <section aria-labelledby="rm-h">
        <h2 id="rm-h">Metrics</h2>
        ${
          metrics.length === 0
            ? html`<p class="muted">No metrics.</p>`
            : html`<ul class="plain">${metrics.map(
                ([name, mid]) =>
                  html`<li><a href=${href('metrics', { id: mid })}>${name}</a> <code class="muted">${mid}</code></li>`,
              )}</ul>
              ${
                metrics.length > 1 &&
                html`<p><a class="button" href=${href('metrics', { id: metrics.map((m) => m[1]) })}>Chart all ${metrics.length} overlaid</a></p>`
              }`
        }
      </section>
    </div>
    <section aria-labelledby="hist-h">
      <h2 id="hist-h">History</h2>
      ${history === undefined ? html`<p aria-busy="true">Loading…</p>` : html`<${History} revisions=${history} />`}
    </section>
  </section>`
}

/** Each revision with what changed from the one before it. */
function History(/** @type {{ revisions: Resource[] }} */ { revisions }) {
  return html`<ol class="history" data-testid="history">${revisions.map((rev, i) => {
    const prev = revisions[i - 1]
    const changes = prev
      ? Object.keys({ ...prev, ...rev })
          .filter((k) => !REVISION_KEYS.has(k) && JSON.stringify(prev[k]) !== JSON.stringify(rev[k]))
          .map((k) => ({ k, from: prev[k], to: rev[k] }))
      : []
    return html`<li>
      <p><strong>Revision ${i + 1}</strong> <span class="muted">from ${rev.revision_start} ${rev.revision_end ? `to ${rev.revision_end}` : '(current)'} by ${cell(rev.created_by_user_id)}</span></p>
      ${
        i === 0
          ? html`<p class="muted">Created.</p>`
          : changes.length === 0
            ? html`<p class="muted">No attribute changed.</p>`
            : html`<table class="diff"><thead><tr><th scope="col">Attribute</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
              <tbody>${changes.map(
                (c) =>
                  html`<tr><th scope="row">${c.k}</th><td><del>${cell(c.from)}</del></td><td><ins>${cell(c.to)}</ins></td></tr>`,
              )}</tbody></table>`
      }
    </li>`
  })}</ol>`
}
