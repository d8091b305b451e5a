/**
 * UI language: every visible string comes from a dictionary. Choice order:
 * `?lang=` in the address, then the viewer's saved toggle, then French when
 * navigator.language starts with "fr", else English.
 */
import { en, type MessageKey } from './en.js'
import { fr } from './fr.js'

export type Lang = 'en' | 'fr'
export type { MessageKey }

const DICTS: Record<Lang, Record<MessageKey, string>> = { en, fr }
const STORE_KEY = 'vigie.lang'
let current: Lang = 'en'

function valid (v: string | null | undefined): Lang | undefined {
  return v === 'en' || v === 'fr' ? v : undefined
}

/** Picks the language at start-up; returns it. */
export function detectLang (): Lang {
  const fromUrl = valid(new URLSearchParams(location.search).get('lang'))
  let saved: Lang | undefined
  try { saved = valid(localStorage.getItem(STORE_KEY)) } catch { saved = undefined }
  current = fromUrl ?? saved ?? (navigator.language.toLowerCase().startsWith('fr') ? 'fr' : 'en')
  document.documentElement.lang = current
  return current
}

export function lang (): Lang { return current }

/** Switches language and remembers the choice (the caller re-renders). */
export function setLang (l: Lang): void {
  current = l
  document.documentElement.lang = l
  try { localStorage.setItem(STORE_KEY, l) } catch { /* private mode: not remembered */ }
  const url = new URL(location.href)
  if (url.searchParams.has('lang')) { url.searchParams.set('lang', l); history.replaceState(null, '', url) }
}

/** The string for `key` in the current language, with `{name}` placeholders filled. */
export function t (key: MessageKey, params?: Record<string, string | number>): string {
  const s = DICTS[current][key] ?? en[key]
  if (params === undefined) return s
  return s.replace(/\{(\w+)\}/g, (_, k: string) => params[k] === undefined ? `{${k}}` : String(params[k]))
}
