// The console's shell: sign-in per auth mode, navigation, theme, and the page of the URL.
import { html, render } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { get, keystoneLogin, loadSession, SIGNED_OUT_EVENT, saveSession } from './api.js'
import { THEME_EVENT } from './chart.js'
import { AggregatesPage } from './pages/aggregates.js'
import { MetricsPage } from './pages/metrics.js'
import { PoliciesPage } from './pages/policies.js'
import { ResourcePage, ResourcesPage } from './pages/resources.js'
import { StatusPage } from './pages/status.js'
import { useRoute } from './route.js'

/** @typedef {'basic' | 'remoteuser' | 'keystone'} AuthMode */

const PAGES = [
  ['status', 'Status'],
  ['resources', 'Resources'],
  ['metrics', 'Metrics'],
  ['aggregates', 'Aggregates'],
  ['policies', 'Archive policies'],
]

const THEME_KEY = 'gnocchi-console-theme'

/** `auto` follows prefers-color-scheme; `light`/`dark` override it (kept in localStorage). */
function applyTheme(/** @type {string} */ theme) {
  if (theme === 'auto') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = theme
  dispatchEvent(new Event(THEME_EVENT))
}

function ThemeToggle() {
  const [theme, setTheme] = useState(() => localStorage.getItem(THEME_KEY) ?? 'auto')
  useEffect(() => {
    applyTheme(theme)
    localStorage.setItem(THEME_KEY, theme)
  }, [theme])
  return html`<label class="theme">
    <span class="visually-hidden">Theme</span>
    <select value=${theme} onChange=${(/** @type {Event} */ e) => setTheme(/** @type {HTMLSelectElement} */ (e.target).value)}>
      <option value="auto">Auto theme</option>
      <option value="light">Light</option>
      <option value="dark">Dark</option>
    </select>
  </label>`
}

/** @param {{ mode: AuthMode, onDone: () => void }} props */
function Login({ mode, onDone }) {
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const [kind, setKind] = useState('password')
  const submit = async (/** @type {SubmitEvent} */ e) => {
    e.preventDefault()
    const f = new FormData(/** @type {HTMLFormElement} */ (e.target))
    const v = (/** @type {string} */ k) => String(f.get(k) ?? '').trim()
    setError('')
    setBusy(true)
    try {
      if (mode === 'basic') {
        saveSession({ mode: 'basic', user: v('user') })
      } else if (kind === 'token') {
        saveSession({ mode: 'keystone', token: v('token') })
      } else {
        const t = await keystoneLogin(v('user'), String(f.get('password') ?? ''), v('project'), v('domain'))
        saveSession({ mode: 'keystone', token: t.token, user: v('user') })
      }
      await get('/v1/') // a wrong token is refused here, not on the first page
      onDone()
    } catch (err) {
      saveSession(undefined)
      setError(/** @type {Error} */ (err).message)
    } finally {
      setBusy(false)
    }
  }
  return html`<main class="login" id="main">
    <h1>Gnocchi console</h1>
    <form onSubmit=${submit} aria-describedby="login-help">
      ${
        mode === 'basic'
          ? html`<p id="login-help">This server uses <code>basic</code> authentication: the user name is all it asks (the user <code>admin</code> is the administrator).</p>
            <label>User name <input name="user" required autocomplete="username" autofocus /></label>`
          : html`<p id="login-help">This server validates OpenStack Keystone tokens.</p>
            <fieldset>
              <legend>Sign in with</legend>
              <label class="inline"><input type="radio" name="kind" value="password" checked=${kind === 'password'} onChange=${() => setKind('password')} /> user and password</label>
              <label class="inline"><input type="radio" name="kind" value="token" checked=${kind === 'token'} onChange=${() => setKind('token')} /> a token</label>
            </fieldset>
            ${
              kind === 'token'
                ? html`<label>Token <input name="token" required autocomplete="off" /></label>`
                : html`<label>User name <input name="user" required autocomplete="username" /></label>
                  <label>Password <input name="password" type="password" required autocomplete="current-password" /></label>
                  <label>Project <input name="project" required /></label>
                  <label>Domain <input name="domain" value="Default" required /></label>`
            }`
      }
      <button type="submit" disabled=${busy}>Sign in</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  </main>`
}

/** @param {{ mode: AuthMode }} props */
function App({ mode }) {
  const [session, setSession] = useState(
    () => loadSession() ?? (mode === 'remoteuser' ? { mode } : undefined),
  )
  const route = useRoute()
  const current = route.page === 'resource' ? 'resources' : route.page
  // A new page: its name in the title, and focus to its content (as a page load would reset it),
  // so keyboard and screen reader users start there.
  useEffect(() => {
    const out = () => setSession(undefined)
    addEventListener(SIGNED_OUT_EVENT, out)
    return () => removeEventListener(SIGNED_OUT_EVENT, out)
  }, [])
  const firstPage = useRef(true)
  useEffect(() => {
    const label = PAGES.find(([id]) => id === current)?.[1] ?? 'Status'
    document.title = session ? `${label} · Gnocchi console` : 'Sign in · Gnocchi console'
    if (firstPage.current) firstPage.current = false
    else document.getElementById('main')?.focus()
  }, [current, !session])
  if (!session) return html`<${Login} mode=${mode} onDone=${() => setSession(loadSession())} />`
  const who =
    session.mode === 'basic'
      ? session.user
      : session.mode === 'keystone'
        ? (session.user ?? 'a token')
        : 'proxy user'
  const signOut = () => {
    saveSession(undefined)
    setSession(undefined)
  }
  const page = (() => {
    switch (route.page) {
      case 'resources':
        return html`<${ResourcesPage} route=${route} />`
      case 'resource':
        return html`<${ResourcePage} route=${route} />`
      case 'metrics':
        return html`<${MetricsPage} route=${route} />`
      case 'aggregates':
        return html`<${AggregatesPage} route=${route} />`
      case 'policies':
        return html`<${PoliciesPage} />`
      default:
        return html`<${StatusPage} />`
    }
  })()
  return html`<a class="skip" href="#main" onClick=${(/** @type {Event} */ e) => {
    e.preventDefault()
    document.getElementById('main')?.focus()
  }}>Skip to content</a>
    <header class="top">
      <span class="brand">Gnocchi</span>
      <nav aria-label="Pages">
        <ul>
          ${PAGES.map(
            ([id, label]) =>
              html`<li><a href=${`#/${id}`} aria-current=${current === id ? 'page' : undefined}>${label}</a></li>`,
          )}
        </ul>
      </nav>
      <span class="who">
        <span>Signed in ${session.mode === 'keystone' && !session.user ? 'with' : 'as'} <strong>${who}</strong></span>
        ${session.mode !== 'remoteuser' && html`<button type="button" class="link" onClick=${signOut}>Sign out</button>`}
        <${ThemeToggle} />
      </span>
    </header>
    <main id="main" tabindex="-1">${page}</main>`
}

async function start() {
  applyTheme(localStorage.getItem(THEME_KEY) ?? 'auto')
  const res = await fetch('./config.json', { credentials: 'omit' })
  const config = /** @type {{ authMode: AuthMode }} */ (await res.json())
  const root = document.getElementById('app')
  if (root) render(html`<${App} mode=${config.authMode} />`, root)
}

void start()
