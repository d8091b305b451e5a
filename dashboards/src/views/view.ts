/** What every page of the dashboards implements. */
export interface View {
  readonly el: HTMLElement
  /** stop timers, live subscriptions and watches */
  destroy: () => void
  /** `/` focuses this page's search box */
  focusSearch?: () => void
  /** page keys (j/k/Enter/Escape…); true when used */
  onKey?: (e: KeyboardEvent) => boolean
}
