/**
 * A list that only builds the rows in view (plus a few above and below), so ten
 * thousand machines cost the same as thirty. Rows have a fixed height. The
 * owner supplies rows by index (undefined = not loaded yet: a placeholder is
 * shown and `onRange` tells the owner which indexes to load).
 */
import { h } from '../dom.js'
import { frame } from '../scheduler.js'

export interface VirtualListOptions<T> {
  rowHeight: number
  /** the row element for an index; built once per visible index and refreshed on invalidate() */
  renderRow: (row: HTMLElement, item: T | undefined, index: number) => void
  /** which item is at this index, if loaded */
  itemAt: (index: number) => T | undefined
  /** the visible (plus overscan) index range changed */
  onRange?: (first: number, last: number) => void
  /** Enter or click on a row */
  onOpen?: (index: number, item: T | undefined) => void
  label: string
  overscan?: number
}

export class VirtualList<T> {
  readonly el: HTMLElement
  readonly #spacer: HTMLElement
  readonly #opts: VirtualListOptions<T>
  readonly #rows = new Map<number, HTMLElement>()
  readonly #pool: HTMLElement[] = []
  #count = 0
  #selected = -1
  readonly #schedule: () => void
  #resize: ResizeObserver

  constructor (opts: VirtualListOptions<T>) {
    this.#opts = opts
    this.#spacer = h('div', { class: 'vlist-spacer' })
    this.el = h('div', { class: 'vlist', tabindex: '0', role: 'grid', 'aria-label': opts.label, 'aria-rowcount': '0' }, this.#spacer)
    this.#schedule = frame(() => { this.#layout(false) })
    this.el.addEventListener('scroll', this.#schedule, { passive: true })
    this.el.addEventListener('keydown', (e) => { this.#onKey(e) })
    this.#resize = new ResizeObserver(this.#schedule)
    this.#resize.observe(this.el)
  }

  get count (): number { return this.#count }
  get selected (): number { return this.#selected }

  setCount (n: number): void {
    this.#count = n
    this.#spacer.style.height = `${n * this.#opts.rowHeight}px`
    this.el.setAttribute('aria-rowcount', String(n))
    if (this.#selected >= n) this.#selected = n - 1
    this.#layout(true)
  }

  /** Re-renders the rows in view (data changed). */
  invalidate (): void { this.#layout(true) }

  scrollToTop (): void { this.el.scrollTop = 0; this.#layout(false) }

  destroy (): void { this.#resize.disconnect() }

  #range (): [number, number] {
    const rh = this.#opts.rowHeight
    const over = this.#opts.overscan ?? 8
    const height = this.el.clientHeight || 600
    const first = Math.max(0, Math.floor(this.el.scrollTop / rh) - over)
    const last = Math.min(this.#count - 1, Math.ceil((this.el.scrollTop + height) / rh) + over)
    return [first, last]
  }

  #layout (refreshAll: boolean): void {
    const [first, last] = this.#range()
    for (const [i, row] of this.#rows) {
      if (i < first || i > last) { row.remove(); this.#rows.delete(i); this.#pool.push(row) }
    }
    for (let i = first; i <= last; i++) {
      let row = this.#rows.get(i)
      const fresh = row === undefined
      if (row === undefined) {
        row = this.#pool.pop() ?? this.#makeRow()
        row.style.transform = `translateY(${i * this.#opts.rowHeight}px)`
        row.dataset.index = String(i)
        row.setAttribute('aria-rowindex', String(i + 1))
        this.#rows.set(i, row)
        this.el.appendChild(row)
      }
      if (fresh || refreshAll) this.#opts.renderRow(row, this.#opts.itemAt(i), i)
      row.classList.toggle('selected', i === this.#selected)
      row.setAttribute('aria-selected', String(i === this.#selected))
    }
    if (this.#count > 0) this.#opts.onRange?.(first, last)
  }

  #makeRow (): HTMLElement {
    const row = h('a', { class: 'vrow', role: 'row', style: { height: `${this.#opts.rowHeight}px` }, tabindex: '-1' })
    row.addEventListener('click', (e) => {
      const i = Number(row.dataset.index)
      this.select(i, false)
      if (this.#opts.onOpen !== undefined && !(e.ctrlKey || e.metaKey || e.shiftKey)) {
        e.preventDefault()
        this.#opts.onOpen(i, this.#opts.itemAt(i))
      }
    })
    return row
  }

  /** Selects a row and scrolls it into view. */
  select (i: number, scroll = true): void {
    if (this.#count === 0) return
    this.#selected = Math.max(0, Math.min(this.#count - 1, i))
    if (scroll) {
      const rh = this.#opts.rowHeight
      const top = this.#selected * rh
      if (top < this.el.scrollTop) this.el.scrollTop = top
      else if (top + rh > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + rh - this.el.clientHeight
    }
    this.#layout(false)
  }

  /** j / k / arrows / Enter; true when the key was used. */
  handleKey (key: string): boolean {
    if (key === 'j' || key === 'ArrowDown') { this.select(this.#selected + 1); return true }
    if (key === 'k' || key === 'ArrowUp') { this.select(Math.max(0, this.#selected - 1)); return true }
    if (key === 'Home') { this.select(0); return true }
    if (key === 'End') { this.select(this.#count - 1); return true }
    if (key === 'PageDown') { this.select(this.#selected + Math.floor(this.el.clientHeight / this.#opts.rowHeight)); return true }
    if (key === 'PageUp') { this.select(this.#selected - Math.floor(this.el.clientHeight / this.#opts.rowHeight)); return true }
    if (key === 'Enter' && this.#selected >= 0) { this.#opts.onOpen?.(this.#selected, this.#opts.itemAt(this.#selected)); return true }
    return false
  }

  #onKey (e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return
    if (['ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp'].includes(e.key) && this.handleKey(e.key)) e.preventDefault()
  }
}
