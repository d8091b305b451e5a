/**
 * A tiny element builder: `h('button', { class: 'x', onclick }, 'Label')`.
 * Text children become text nodes, so nothing is ever parsed as HTML.
 */
export type Child = Node | string | number | false | null | undefined | Child[]
export type Props = Record<string, unknown>

export function h<K extends keyof HTMLElementTagNameMap> (tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props != null) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v as EventListener)
      } else if (k === 'class') {
        el.className = String(v)
      } else if (k === 'style' && typeof v === 'object') {
        Object.assign(el.style, v)
      } else if (k === 'dataset' && typeof v === 'object') {
        for (const [dk, dv] of Object.entries(v as Record<string, string>)) el.dataset[dk] = dv
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') {
        (el as unknown as Record<string, unknown>)[k] = v
      } else {
        el.setAttribute(k, v === true ? '' : String(v))
      }
    }
  }
  append(el, children)
  return el
}

function append (el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)))
  }
}

/** Replaces every child of `el`. */
export function replace (el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

/** Sets text only when it changed (cheap live updates without layout churn). */
export function setText (el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

/** True while the user is typing in a form field (shortcuts stay out of the way). */
export function isTyping (target: EventTarget | null): boolean {
  const el = target as HTMLElement | null
  if (el === null || typeof el.tagName !== 'string') return false
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)
}
