// A time-series chart over uPlot: series overlaid on one time axis, drag to zoom, buttons and
// arrow keys to pan, colours from the theme. Columns stay typed arrays end to end.
import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'

const PALETTE = ['#2f7ed8', '#e4572e', '#29a36a', '#a05fd6', '#d4a017', '#17a2b8', '#d6336c', '#6c757d']

/**
 * Points of the API (`[[timestamp, granularity, value], …]`) as columns: seconds since the epoch
 * and values.
 * @param {Array<[string, number, number]>} measures
 * @returns {[Float64Array, Float64Array]}
 */
export function columns(measures) {
  const n = measures.length
  const x = new Float64Array(n)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const m = measures[i]
    x[i] = Date.parse(m[0]) / 1000
    y[i] = m[2]
  }
  return [x, y]
}

/** @typedef {{ label: string, x: Float64Array, y: Float64Array, dash?: number[] }} Series */

/** @param {Series[]} series @returns {uPlot.AlignedData} */
function aligned(series) {
  if (series.length === 1) return [series[0].x, series[0].y]
  return uPlot.join(series.map((s) => /** @type {uPlot.AlignedData} */ ([s.x, s.y])))
}

/** Bumped when the theme changes (toggle or system), so charts redraw in its colours. */
export const THEME_EVENT = 'gnocchi-theme'

function useThemeVersion() {
  const [n, setN] = useState(0)
  useEffect(() => {
    const bump = () => setN((x) => x + 1)
    const media = matchMedia('(prefers-color-scheme: dark)')
    media.addEventListener('change', bump)
    addEventListener(THEME_EVENT, bump)
    return () => {
      media.removeEventListener('change', bump)
      removeEventListener(THEME_EVENT, bump)
    }
  }, [])
  return n
}

function cssVar(/** @type {string} */ name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}

/**
 * @param {{ series: Series[], title: string, height?: number, minSpanS?: number,
 *   onRange?: (startS: number, stopS: number) => void }} props
 */
export function Chart({ series, title, height = 320, minSpanS = 0, onRange }) {
  const box = useRef(/** @type {HTMLDivElement | null} */ (null))
  const plot = useRef(/** @type {uPlot | null} */ (null))
  const onRangeRef = useRef(onRange)
  onRangeRef.current = onRange
  const theme = useThemeVersion()

  useEffect(() => {
    const el = box.current
    if (!el) return
    const t0 = performance.now()
    const axis = cssVar('--fg-muted') || '#888'
    const grid = cssVar('--grid') || '#8883'
    /** @type {uPlot.Options} */
    const opts = {
      width: Math.max(200, el.clientWidth),
      height,
      title: undefined,
      // A range shorter than minSpanS is widened to it (a live chart's first samples).
      scales: { x: { time: true, range: (_u, min, max) => [Math.min(min, max - minSpanS), max] } },
      axes: [
        { stroke: axis, grid: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, size: 60 },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          dash: s.dash,
          spanGaps: false,
          points: { show: s.x.length < 200 },
        })),
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 2) return
            const a = u.posToVal(u.select.left, 'x')
            const b = u.posToVal(u.select.left + u.select.width, 'x')
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
            onRangeRef.current?.(a, b)
          },
        ],
      },
    }
    const u = new uPlot(opts, aligned(series), el)
    plot.current = u
    // Time to the first painted frame, read by the browser tests (docs/console.md).
    requestAnimationFrame(() => {
      el.dataset.renderMs = (performance.now() - t0).toFixed(1)
      el.dataset.points = String(series.reduce((n, s) => n + s.x.length, 0))
    })
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }))
    ro.observe(el)
    return () => {
      ro.disconnect()
      u.destroy()
      plot.current = null
    }
  }, [series, height, minSpanS, theme])

  /** Shifts the visible range by a fraction of its width (negative: earlier). */
  const pan = (/** @type {number} */ f) => {
    const u = plot.current
    if (!u) return
    const min = u.scales.x.min ?? 0
    const max = u.scales.x.max ?? 0
    const d = (max - min) * f
    onRangeRef.current?.(min + d, max + d)
  }
  const zoom = (/** @type {number} */ f) => {
    const u = plot.current
    if (!u) return
    const min = u.scales.x.min ?? 0
    const max = u.scales.x.max ?? 0
    const mid = (min + max) / 2
    const half = ((max - min) / 2) * f
    onRangeRef.current?.(mid - half, mid + half)
  }
  const onKey = (/** @type {KeyboardEvent} */ e) => {
    const k = {
      ArrowLeft: () => pan(-0.25),
      ArrowRight: () => pan(0.25),
      '+': () => zoom(0.5),
      '-': () => zoom(2),
    }[e.key]
    if (k && onRangeRef.current) {
      e.preventDefault()
      k()
    }
  }
  return html`<figure class="chart">
    <figcaption>${title}</figcaption>
    <div
      class="chart-plot"
      ref=${box}
      tabindex="0"
      role="img"
      aria-label=${`${title}: chart of ${series.map((s) => s.label).join(', ')}. Drag to zoom, arrow keys to pan, + and - to zoom.`}
      onKeyDown=${onKey}
    ></div>
    ${
      onRange &&
      html`<div class="chart-tools" role="group" aria-label="Time range">
        <button type="button" onClick=${() => pan(-0.5)} aria-label="Earlier">◀</button>
        <button type="button" onClick=${() => zoom(0.5)} aria-label="Zoom in">+</button>
        <button type="button" onClick=${() => zoom(2)} aria-label="Zoom out">-</button>
        <button type="button" onClick=${() => pan(0.5)} aria-label="Later">▶</button>
      </div>`
    }
  </figure>`
}
