/** Light / dark theme: follows prefers-color-scheme unless the viewer picks one (remembered). */
export type ThemeChoice = 'auto' | 'light' | 'dark'
const KEY = 'vigie.theme'
let choice: ThemeChoice = 'auto'
const listeners = new Set<() => void>()

export function initTheme (): void {
  try {
    const v = localStorage.getItem(KEY)
    if (v === 'light' || v === 'dark') choice = v
  } catch { /* default auto */ }
  apply()
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => { apply() })
}

function apply (): void {
  document.documentElement.dataset.theme = effectiveTheme()
  for (const l of listeners) l()
}

export function themeChoice (): ThemeChoice { return choice }

export function effectiveTheme (): 'light' | 'dark' {
  if (choice !== 'auto') return choice
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

/** auto → light → dark → auto */
export function cycleTheme (): ThemeChoice {
  choice = choice === 'auto' ? 'light' : choice === 'light' ? 'dark' : 'auto'
  try { if (choice === 'auto') localStorage.removeItem(KEY); else localStorage.setItem(KEY, choice) } catch { /* not remembered */ }
  apply()
  return choice
}

/** Called when the effective theme may have changed (charts recolour). */
export function onThemeChange (fn: () => void): () => void {
  listeners.add(fn)
  return () => { listeners.delete(fn) }
}

/** A CSS custom property's value, e.g. cssVar('--fg'). */
export function cssVar (name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim()
}
