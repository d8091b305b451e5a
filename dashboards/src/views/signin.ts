/** Sign-in: paste a technician API token; "remember me" keeps it across browser restarts. */
import { signIn, SignInError } from '../auth.js'
import { h, setText } from '../dom.js'
import { t } from '../i18n/index.js'
import type { View } from './view.js'

export function signInView (opts: { expired?: boolean } = {}): View {
  const token = h('input', { type: 'password', name: 'token', id: 'token', required: true, autocomplete: 'current-password', spellcheck: 'false', placeholder: 'vgt_…' })
  const remember = h('input', { type: 'checkbox', name: 'remember', id: 'remember' })
  const submit = h('button', { type: 'submit', class: 'primary' }, t('signin.submit'))
  const message = h('p', { class: 'error', role: 'alert' }, opts.expired === true ? t('signin.expired') : '')
  const form = h('form', { class: 'card signin', onsubmit: (e: Event) => {
    e.preventDefault()
    submit.disabled = true
    setText(submit, t('signin.checking'))
    setText(message, '')
    signIn(token.value, remember.checked).catch((err: unknown) => {
      const msg = (err as Error).message
      setText(message, err instanceof SignInError && err.kind === 'refused' ? t('signin.invalid', { msg }) : t('signin.unreachable', { msg }))
      submit.disabled = false
      setText(submit, t('signin.submit'))
      token.select()
    })
  } },
  h('h1', null, t('signin.title')),
  h('p', { class: 'muted' }, t('signin.help')),
  h('label', { for: 'token' }, t('signin.token')), token,
  h('label', { class: 'check' }, remember, ' ', t('signin.remember')),
  submit, message)
  const el = h('div', { class: 'page signin-page', 'data-view': 'signin' }, form)
  setTimeout(() => { token.focus() }, 0)
  return { el, destroy: () => {} }
}
