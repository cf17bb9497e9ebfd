// Archive policies and rules: list, create and delete (the API refuses a non-admin; its error is
// shown as it is).
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, get } from '../api.js'
import { duration, timedeltaSeconds } from '../format.js'

const METHODS = ['mean', 'min', 'max', 'sum', 'count', 'std', 'median', 'first', 'last', 'rate:mean']

/**
 * @typedef {{ name: string, back_window: number, aggregation_methods: string[],
 *   definition: Array<{ granularity: string, points: number, timespan: string }> }} Policy
 * @typedef {{ name: string, metric_pattern: string, archive_policy_name: string }} Rule
 */

export function PoliciesPage() {
  const [policies, setPolicies] = useState(/** @type {Policy[] | undefined} */ (undefined))
  const [rules, setRules] = useState(/** @type {Rule[]} */ ([]))
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const load = () =>
    Promise.all([
      get('/v1/archive_policy').then(setPolicies, (e) => setError(e.message)),
      get('/v1/archive_policy_rule').then(setRules, (e) => setError(e.message)),
    ])
  useEffect(() => void load(), [])
  /** Runs a change, then reloads; the API's refusal is shown as it is. */
  const act = async (/** @type {() => Promise<unknown>} */ f, /** @type {string} */ done) => {
    setError('')
    setNotice('')
    try {
      await f()
      await load()
      setNotice(done)
      return true
    } catch (e) {
      setError(/** @type {Error} */ (e).message)
      return false
    }
  }
  const remove = (/** @type {string} */ kind, /** @type {string} */ name) => {
    if (!confirm(`Delete ${kind} ${name}?`)) return
    void act(() => api('DELETE', `/v1/${kind}/${encodeURIComponent(name)}`), `Deleted ${name}.`)
  }
  return html`<section aria-labelledby="ap-h">
    <h1 id="ap-h">Archive policies</h1>
    ${error && html`<p class="error" role="alert" data-testid="policy-error">${error}</p>`}
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    ${
      policies === undefined
        ? html`<p aria-busy="true">Loading…</p>`
        : html`<div class="table-wrap"><table data-testid="policies">
          <thead><tr><th scope="col">Name</th><th scope="col">Retention (granularity × points = timespan)</th><th scope="col">Methods</th><th scope="col" class="num">Back window</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
          <tbody>${policies.map(
            (p) => html`<tr>
              <th scope="row">${p.name}</th>
              <td>${p.definition.map(
                (d) =>
                  html`<div>${duration(timedeltaSeconds(d.granularity))} × ${d.points} = ${duration(timedeltaSeconds(d.timespan))}</div>`,
              )}</td>
              <td>${p.aggregation_methods.join(', ')}</td>
              <td class="num">${p.back_window}</td>
              <td><button type="button" class="danger" aria-label=${`Delete archive policy ${p.name}`} onClick=${() => remove('archive_policy', p.name)}>Delete</button></td>
            </tr>`,
          )}</tbody></table></div>`
    }
    <${PolicyForm} onCreate=${(/** @type {object} */ body) => act(() => api('POST', '/v1/archive_policy', body), 'Archive policy created.')} />
    <h2 id="rules-h">Archive policy rules</h2>
    <div class="table-wrap"><table data-testid="rules">
      <thead><tr><th scope="col">Name</th><th scope="col">Metric pattern</th><th scope="col">Archive policy</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead>
      <tbody>${rules.map(
        (
          r,
        ) => html`<tr><th scope="row">${r.name}</th><td><code>${r.metric_pattern}</code></td><td>${r.archive_policy_name}</td>
          <td><button type="button" class="danger" aria-label=${`Delete rule ${r.name}`} onClick=${() => remove('archive_policy_rule', r.name)}>Delete</button></td></tr>`,
      )}</tbody>
    </table></div>
    <form class="toolbar" aria-labelledby="rules-h" onSubmit=${async (/** @type {SubmitEvent} */ e) => {
      e.preventDefault()
      const form = /** @type {HTMLFormElement} */ (e.target)
      const f = new FormData(form)
      const ok = await act(
        () =>
          api('POST', '/v1/archive_policy_rule', {
            name: f.get('name'),
            metric_pattern: f.get('pattern'),
            archive_policy_name: f.get('policy'),
          }),
        'Rule created.',
      )
      if (ok) form.reset()
    }}>
      <label>Rule name <input name="name" required /></label>
      <label>Metric pattern <input name="pattern" required placeholder="disk.*" /></label>
      <label>Archive policy <select name="policy" required>${(policies ?? []).map((p) => html`<option value=${p.name}>${p.name}</option>`)}</select></label>
      <button type="submit">Create rule</button>
    </form>
  </section>`
}

function PolicyForm(/** @type {{ onCreate: (body: object) => Promise<boolean> }} */ { onCreate }) {
  const [rows, setRows] = useState([{ granularity: '60', timespan: '1d' }])
  const submit = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault()
    const form = /** @type {HTMLFormElement} */ (e.target)
    const f = new FormData(form)
    const ok = await onCreate({
      name: f.get('name'),
      back_window: Number(f.get('back_window') || 0),
      aggregation_methods: f.getAll('method'),
      definition: rows.map((r) => ({ granularity: r.granularity, timespan: r.timespan })),
    })
    if (ok) {
      form.reset()
      setRows([{ granularity: '60', timespan: '1d' }])
    }
  }
  const edit = (
    /** @type {number} */ i,
    /** @type {'granularity' | 'timespan'} */ k,
    /** @type {string} */ v,
  ) => setRows(rows.map((r, j) => (j === i ? { ...r, [k]: v } : r)))
  return html`<form class="editor" onSubmit=${submit} aria-labelledby="new-ap-h">
    <h2 id="new-ap-h" class="wide">New archive policy</h2>
    <label>Name <input name="name" required /></label>
    <label>Back window <input name="back_window" type="number" min="0" value="0" /></label>
    <fieldset class="wide inline-set"><legend>Aggregation methods</legend>
      ${METHODS.map((m) => html`<label class="inline"><input type="checkbox" name="method" value=${m} checked=${['mean', 'min', 'max'].includes(m)} /> ${m}</label>`)}
    </fieldset>
    <fieldset class="wide"><legend>Definition</legend>
      ${rows.map(
        (r, i) => html`<div class="row">
          <label>Granularity <input value=${r.granularity} required onInput=${(/** @type {Event} */ e) => edit(i, 'granularity', /** @type {HTMLInputElement} */ (e.target).value)} /></label>
          <label>Timespan <input value=${r.timespan} required onInput=${(/** @type {Event} */ e) => edit(i, 'timespan', /** @type {HTMLInputElement} */ (e.target).value)} /></label>
          ${rows.length > 1 && html`<button type="button" class="link" onClick=${() => setRows(rows.filter((_, j) => j !== i))}>Remove</button>`}
        </div>`,
      )}
      <button type="button" onClick=${() => setRows([...rows, { granularity: '3600', timespan: '30d' }])}>Add a granularity</button>
    </fieldset>
    <div class="wide"><button type="submit">Create archive policy</button></div>
  </form>`
}
