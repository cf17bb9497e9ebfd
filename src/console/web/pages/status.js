// Status: the backlog (/v1/status; with details every fifth poll), metricd's processors, the version, and a chart
// of the backlog over the last minutes, sampled by this page while it is open.
import { html } from 'htm/preact'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { get } from '../api.js'
import { Chart } from '../chart.js'

const POLL_MS = 2000
/** The per-metric list is one entry per metric with a backlog: asked for every fifth poll only. */
const DETAILS_EVERY = 5
/** Samples kept: ten minutes at one every two seconds. */
const HISTORY = 300

/**
 * @typedef {{ storage: { summary: { metrics: number, measures: number },
 *   measures_to_process?: Record<string, number> },
 *   metricd: { processors: string[] | null, statistics?: Record<string, Record<string, unknown>> } }} Status
 */

export function StatusPage() {
  const [status, setStatus] = useState(/** @type {Status | undefined} */ (undefined))
  const [perMetric, setPerMetric] = useState(/** @type {Array<[string, number]>} */ ([]))
  const [error, setError] = useState('')
  const [live, setLive] = useState(true)
  const [version, setVersion] = useState('')
  /** When each processor's counters last changed, as this page saw it. */
  const seen = useRef(/** @type {Map<string, { key: string, at: number }>} */ (new Map()))
  const samples = useRef({
    t: /** @type {number[]} */ ([]),
    measures: /** @type {number[]} */ ([]),
    metrics: /** @type {number[]} */ ([]),
  })
  const [tick, setTick] = useState(0)

  useEffect(() => {
    fetch('../', { headers: { accept: 'application/json' }, credentials: 'omit' })
      .then((r) => r.json())
      .then((/** @type {{ build?: string }} */ b) => setVersion(b.build ?? ''))
      .catch(() => {})
  }, [])

  useEffect(() => {
    if (!live) return
    let stop = false
    let n = 0
    const poll = async () => {
      try {
        const details = n++ % DETAILS_EVERY === 0
        /** @type {Status} */
        const s = await get(`/v1/status?details=${details}`)
        if (stop) return
        if (details)
          setPerMetric(Object.entries(s.storage.measures_to_process ?? {}).sort((a, b) => b[1] - a[1]))
        // An empty backlog needs no details to know the list is empty.
        else if (s.storage.summary.metrics === 0) setPerMetric([])
        const h = samples.current
        h.t.push(Date.now() / 1000)
        h.measures.push(s.storage.summary.measures)
        h.metrics.push(s.storage.summary.metrics)
        if (h.t.length > HISTORY) for (const a of [h.t, h.measures, h.metrics]) a.shift()
        for (const [p, stats] of Object.entries(s.metricd.statistics ?? {})) {
          const key = JSON.stringify(stats)
          if (seen.current.get(p)?.key !== key) seen.current.set(p, { key, at: Date.now() })
        }
        setStatus(s)
        setError('')
        setTick((n) => n + 1)
      } catch (err) {
        if (!stop) setError(/** @type {Error} */ (err).message)
      }
    }
    void poll()
    const id = setInterval(poll, POLL_MS)
    return () => {
      stop = true
      clearInterval(id)
    }
  }, [live])

  const series = useMemo(() => {
    const h = samples.current
    return [
      { label: 'measures', x: Float64Array.from(h.t), y: Float64Array.from(h.measures) },
      { label: 'metrics', x: Float64Array.from(h.t), y: Float64Array.from(h.metrics), dash: [6, 4] },
    ]
  }, [tick])

  const processors = status?.metricd.processors ?? []
  return html`<section aria-labelledby="status-h">
    <div class="page-head">
      <h1 id="status-h">Status</h1>
      <label class="inline"><input type="checkbox" checked=${live} onChange=${() => setLive(!live)} /> Live (every ${POLL_MS / 1000} s)</label>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="cards">
      <div class="card"><span class="card-label">Measures to process</span><span class="card-value" data-testid="backlog-measures">${status ? status.storage.summary.measures : '…'}</span></div>
      <div class="card"><span class="card-label">Metrics with measures to process</span><span class="card-value" data-testid="backlog-metrics">${status ? status.storage.summary.metrics : '…'}</span></div>
      <div class="card"><span class="card-label">metricd processors</span><span class="card-value">${status ? processors.length : '…'}</span></div>
      <div class="card"><span class="card-label">Version</span><span class="card-value small">${version || '…'}</span></div>
    </div>
    ${samples.current.t.length > 1 && html`<${Chart} series=${series} title="Backlog over the last minutes" height=${220} minSpanS=${120} />`}
    <div class="two-col">
      <section aria-labelledby="proc-h">
        <h2 id="proc-h">metricd processors</h2>
        ${
          processors.length === 0
            ? html`<p class="muted">No metricd is registered.</p>`
            : html`<table><thead><tr><th scope="col">Processor</th><th scope="col" class="num">Measures processed</th><th scope="col">Last activity</th></tr></thead>
              <tbody>${processors.map((p) => {
                const stats = status?.metricd.statistics?.[p] ?? {}
                const processed = stats['processed measures']
                return html`<tr>
                  <td><code>${p}</code></td>
                  <td class="num">${typeof processed === 'number' ? processed : '—'}</td>
                  <td>${ago(seen.current.get(p)?.at)}</td>
                </tr>`
              })}</tbody></table>`
        }
      </section>
      <section aria-labelledby="backlog-h">
        <h2 id="backlog-h">Backlog per metric</h2>
        ${
          perMetric.length === 0
            ? html`<p class="muted">Nothing waiting.</p>`
            : html`<table data-testid="backlog-per-metric"><thead><tr><th scope="col">Metric</th><th scope="col" class="num">Measures</th></tr></thead>
              <tbody>${perMetric
                .slice(0, 50)
                .map(
                  ([id, n]) =>
                    html`<tr><td><a href=${`#/metrics?id=${id}`}><code>${id}</code></a></td><td class="num">${n}</td></tr>`,
                )}</tbody></table>`
        }
      </section>
    </div>
  </section>`
}

/** `12 s ago`: when the processor's counters last moved while this page was open. */
function ago(/** @type {number | undefined} */ at) {
  if (at === undefined) return '—'
  const s = Math.round((Date.now() - at) / 1000)
  return s < 2 ? 'now' : s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`
}
