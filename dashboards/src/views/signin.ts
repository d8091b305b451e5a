/**
 * Sign-in: a technician account (username and password), or a technician API
 * token pasted; "remember me" keeps it across browser restarts.
 */
import { signIn, signInWithPassword, SignInError } from '../auth.js'
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
  h('h2', null, t('signin.tokenTitle')),
  h('p', { class: 'muted' }, t('signin.help')),
  h('label', { for: 'token' }, t('signin.token')), token,
  h('label', { class: 'check' }, remember, ' ', t('signin.remember')),
  submit, message)
  const username = h('input', { type: 'text', name: 'username', id: 'username', required: true, autocomplete: 'username', spellcheck: 'false' })
  const password = h('input', { type: 'password', name: 'password', id: 'password', required: true, autocomplete: 'current-password' })
  const rememberAccount = h('input', { type: 'checkbox', name: 'remember-account', id: 'remember-account' })
  const submitAccount = h('button', { type: 'submit', class: 'primary' }, t('signin.submit'))
  const accountMessage = h('p', { class: 'error', role: 'alert' }, opts.expired === true ? t('signin.expired') : '')
  const accountForm = h('form', { class: 'card signin-account', onsubmit: (e: Event) => {
    e.preventDefault()
    submitAccount.disabled = true
    setText(submitAccount, t('signin.checking'))
    setText(accountMessage, '')
    signInWithPassword(username.value, password.value, rememberAccount.checked).catch((err: unknown) => {
      const msg = (err as Error).message
      setText(accountMessage, err instanceof SignInError && err.kind === 'refused' ? t('signin.accountRefused', { msg }) : t('signin.unreachable', { msg }))
      submitAccount.disabled = false
      setText(submitAccount, t('signin.submit'))
      password.select()
    })
  } },
  h('h1', null, t('signin.title')),
  h('label', { for: 'username' }, t('signin.username')), username,
  h('label', { for: 'password' }, t('signin.password')), password,
  h('label', { class: 'check' }, rememberAccount, ' ', t('signin.remember')),
  submitAccount, accountMessage)
  const el = h('div', { class: 'page signin-page', 'data-view': 'signin' }, accountForm, form)
  setTimeout(() => { username.focus() }, 0)
  return { el, destroy: () => {} }
}
