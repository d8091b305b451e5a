/**
 * The dashboards' shell: language, theme, sign-in gate, navigation, the
 * connection banner, keyboard shortcuts and hash routing between views.
 */
import { isSignedIn, onAuthChange, signOut } from './auth.js'
import { h, isTyping, replace, setText } from './dom.js'
import { detectLang, lang, setLang, t } from './i18n/index.js'
import { live, type LiveState } from './live.js'
import { currentRoute, navigate } from './router.js'
import { renderStats } from './scheduler.js'
import { cycleTheme, initTheme, themeChoice } from './theme.js'
import { incidentsView } from './views/incidents.js'
import { kbArticleView, kbEditView, kbListView } from './views/kb.js'
import { machineView } from './views/machine.js'
import { overviewView } from './views/overview.js'
import { signInView } from './views/signin.js'
import { tvView } from './views/tv.js'
import type { View } from './views/view.js'

let view: View | undefined
let viewKey = ''
let sessionEnded = false
let shellSignedIn: boolean | undefined
const root = document.getElementById('app') as HTMLElement
const main = h('main', { id: 'main', tabindex: '-1' })
const banner = h('div', { class: 'banner', role: 'status', hidden: true, 'data-testid': 'live-banner' })
const liveDot = h('span', { class: 'live-dot', 'data-state': 'connecting' })
let bannerTimer: ReturnType<typeof setInterval> | undefined

function navLink (path: string, label: string, key: string): HTMLElement {
  return h('a', { href: '#' + path, class: 'nav-link', dataset: { nav: key }, 'aria-keyshortcuts': key }, label)
}

function renderShell (): void {
  shellSignedIn = isSignedIn()
  document.documentElement.lang = lang()
  const themeLabel = t(themeChoice() === 'auto' ? 'nav.themeAuto' : themeChoice() === 'light' ? 'nav.themeLight' : 'nav.themeDark')
  const header = h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, h('img', { src: 'favicon.svg', alt: '', width: '24', height: '24' }), t('app.name')),
    h('nav', { 'aria-label': 'main' },
      navLink('/', t('nav.overview'), 'o'), navLink('/incidents', t('nav.incidents'), 'i'), navLink('/kb', t('nav.kb'), 'b'), navLink('/tv', t('nav.tv'), 'v')),
    h('div', { class: 'grow' }),
    liveDot,
    h('button', { class: 'ghost', 'data-testid': 'lang-toggle', title: t('nav.languageLabel'), 'aria-label': t('nav.languageLabel'), onclick: toggleLang }, t('nav.language')),
    h('button', { class: 'ghost', 'data-testid': 'theme-toggle', title: themeLabel, 'aria-label': themeLabel, onclick: () => { cycleTheme(); renderShell() } }, themeChoice() === 'dark' ? '☾' : themeChoice() === 'light' ? '☀' : '◐'),
    h('button', { class: 'ghost', title: t('nav.shortcuts'), 'aria-label': t('nav.shortcuts'), onclick: toggleHelp }, '?'),
    h('button', { class: 'ghost', 'data-testid': 'sign-out', onclick: () => { signOut() } }, t('nav.signOut')))
  replace(root, h('a', { class: 'skip', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus() } }, '↓'), isSignedIn() ? header : null, banner, main)
  markNav()
}

function markNav (): void {
  const first = currentRoute().parts[0] ?? ''
  for (const a of root.querySelectorAll<HTMLAnchorElement>('.nav-link')) {
    const target = a.getAttribute('href')?.replace('#/', '') ?? ''
    const active = target === first || (target === '' && first === 'machines')
    if (active) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current')
  }
}

function toggleLang (): void {
  setLang(lang() === 'fr' ? 'en' : 'fr')
  renderShell()
  mount(true)
}

function showLiveState (s: LiveState): void {
  liveDot.dataset.state = s.kind
  liveDot.title = s.kind === 'open' ? t('live.connected') : t('live.connecting')
  setText(liveDot, s.kind === 'open' ? t('live.connected') : '…')
  if (bannerTimer !== undefined) { clearInterval(bannerTimer); bannerTimer = undefined }
  if (s.kind !== 'waiting') { banner.hidden = true; return }
  const draw = (): void => {
    const secs = Math.max(0, Math.ceil((s.retryAtMs - Date.now()) / 1000))
    replace(banner, h('span', null, '⚠ ', t('live.reconnecting', { s: secs })), ' ',
      h('button', { class: 'ghost', onclick: () => { live.retryNow() } }, t('live.reconnectNow')))
  }
  banner.hidden = false
  draw()
  bannerTimer = setInterval(draw, 1000)
}

/** Builds the view for the current route (or keeps it when only its selection changed). */
function mount (force = false): void {
  if (shellSignedIn !== isSignedIn()) renderShell()
  if (!isSignedIn()) {
    view?.destroy()
    view = signInView({ expired: sessionEnded })
    viewKey = 'signin'
    replace(main, view.el)
    return
  }
  const { parts } = currentRoute()
  const [first, second, third] = parts
  const key = first === 'incidents' ? 'incidents' : parts.join('/')
  markNav()
  if (!force && key === viewKey && view !== undefined) {
    // Same board, another incident selected: keep the board, swap the panel.
    const v = view as View & { select?: (id: string | undefined) => void }
    v.select?.(second)
    return
  }
  view?.destroy()
  document.title = 'Vigie'
  if (first === undefined || first === '') view = overviewView()
  else if (first === 'machines' && second !== undefined) view = machineView(second)
  else if (first === 'incidents') view = incidentsView(second)
  else if (first === 'kb' && second === 'new') view = kbEditView()
  else if (first === 'kb' && second !== undefined && third === 'edit') view = kbEditView(second)
  else if (first === 'kb' && second !== undefined) view = kbArticleView(second)
  else if (first === 'kb') view = kbListView()
  else if (first === 'tv') view = tvView()
  else { navigate('/'); return }
  viewKey = key
  replace(main, view.el)
  window.scrollTo(0, 0)
}

let help: HTMLElement | undefined
function toggleHelp (): void {
  if (help !== undefined) { help.remove(); help = undefined; return }
  const row = (keys: string, what: string): HTMLElement => h('tr', null, h('td', null, ...keys.split(' ').map(k => h('kbd', null, k))), h('td', null, what))
  help = h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': t('help.title'), onclick: (e: Event) => { if (e.target === help) toggleHelp() } },
    h('div', { class: 'card' }, h('h2', null, t('help.title')), h('table', null,
      row('/', t('help.search')), row('j k', t('help.nextPrev')), row('Enter', t('help.open')), row('Esc', t('help.back')),
      row('o i b v', t('help.goto')), row('t', t('help.theme')), row('l', t('help.lang')), row('?', t('help.help')))))
  document.body.appendChild(help)
}

function onKey (e: KeyboardEvent): void {
  if (e.ctrlKey || e.metaKey || e.altKey) return
  if (help !== undefined && e.key === 'Escape') { toggleHelp(); e.preventDefault(); return }
  if (isTyping(e.target)) {
    if (e.key === 'Escape') (e.target as HTMLElement).blur()
    return
  }
  if (!isSignedIn()) return
  if (view?.onKey?.(e) === true) { e.preventDefault(); return }
  const go: Record<string, string> = { o: '/', i: '/incidents', b: '/kb', v: '/tv' }
  if (e.key === '/') { view?.focusSearch?.(); e.preventDefault() } else if (go[e.key] !== undefined) navigate(go[e.key])
  else if (e.key === 't') { cycleTheme(); renderShell() } else if (e.key === 'l') toggleLang()
  else if (e.key === '?') toggleHelp()
}

function start (): void {
  detectLang()
  initTheme()
  renderShell()
  live.onState(showLiveState)
  onAuthChange((signedIn) => {
    sessionEnded = !signedIn
    renderShell()
    if (signedIn) live.start(); else live.stop()
    mount(true)
  })
  window.addEventListener('hashchange', () => { mount() })
  document.addEventListener('keydown', onKey)
  if (isSignedIn()) live.start()
  mount(true)
  // For tests and troubleshooting: how many live frames and batched renders this tab has seen.
  Object.assign(window, { __vigie: { live, renderStats } })
}

start()
