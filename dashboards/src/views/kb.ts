/** Knowledge base: search, read, create and edit articles. */
import { api, ApiError, kbItems } from '../api.js'
import { h, replace, setText } from '../dom.js'
import { formatRelative } from '../format.js'
import { t } from '../i18n/index.js'
import { currentRoute, href, navigate, replaceQuery } from '../router.js'
import { FINDING_KINDS, type KbArticle } from '../types.js'
import type { View } from './view.js'

function unavailableOr (err: unknown): string {
  return err instanceof ApiError && err.status === 404 && err.code !== 'VIGIE_ERR_NOT_FOUND' ? t('kb.unavailable') : t('error.generic', { msg: (err as Error).message })
}

/** Paragraphs from plain text, keeping numbered/bulleted lines as a list. */
function prose (text: string): HTMLElement {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  const listy = lines.length > 1 && lines.every(l => /^(\d+[.)]|[-*•])\s+/.test(l))
  if (listy) return h('ol', null, ...lines.map(l => h('li', null, l.replace(/^(\d+[.)]|[-*•])\s+/, ''))))
  return h('div', null, ...lines.map(l => h('p', null, l)))
}

export function kbListView (): View {
  const q = currentRoute().query.get('q') ?? ''
  const search = h('input', { type: 'search', class: 'search', placeholder: t('kb.search'), 'aria-label': t('kb.search'), value: q })
  const results = h('ul', { class: 'kb-results' })
  const message = h('p', { class: 'empty', hidden: true })
  const el = h('div', { class: 'page kb', 'data-view': 'kb' },
    h('div', { class: 'toolbar' }, h('h1', null, t('kb.title')), h('div', { class: 'grow' }), search, h('a', { class: 'button primary', href: '#/kb/new' }, t('kb.new'))),
    message, results)
  let gen = 0
  let selected = -1

  async function load (): Promise<void> {
    const my = ++gen
    try {
      const items = kbItems(await api.kbSearch(search.value.trim()))
      if (my !== gen) return
      message.hidden = items.length > 0
      setText(message, t('kb.empty'))
      selected = -1
      replace(results, ...items.map(a => h('li', { dataset: { article: a.id } },
        h('a', { href: href('kb', a.id) }, h('strong', null, a.title)),
        h('p', { class: 'muted' }, (a.snippet ?? a.symptoms).slice(0, 240)),
        h('div', { class: 'tags' }, ...(a.tags ?? []).map(tag => h('span', { class: 'tag' }, tag)),
          a.resolvedCount !== undefined && a.resolvedCount > 0 ? h('span', { class: 'muted' }, t('kb.resolvedCount', { n: a.resolvedCount })) : null))))
    } catch (err) {
      if (my !== gen) return
      message.hidden = false
      setText(message, unavailableOr(err))
      replace(results)
    }
  }
  let typing: ReturnType<typeof setTimeout> | undefined
  search.addEventListener('input', () => {
    if (typing !== undefined) clearTimeout(typing)
    typing = setTimeout(() => { replaceQuery({ q: search.value.trim() }); void load() }, 200)
  })
  void load()
  return {
    el,
    destroy: () => { if (typing !== undefined) clearTimeout(typing) },
    focusSearch: () => { search.focus(); search.select() },
    onKey: (e) => {
      const links = [...results.querySelectorAll<HTMLAnchorElement>('li > a')]
      if ((e.key === 'j' || e.key === 'k') && links.length > 0) {
        selected = Math.max(0, Math.min(links.length - 1, selected + (e.key === 'j' ? 1 : -1)))
        links[selected].focus()
        return true
      }
      return false
    }
  }
}

export function kbArticleView (id: string): View {
  const body = h('article', { class: 'card kb-article' }, h('p', { class: 'muted' }, t('overview.loading')))
  const el = h('div', { class: 'page kb', 'data-view': 'kb-article' }, h('a', { class: 'back', href: '#/kb' }, t('kb.back')), body)
  api.kbGet(id).then((a) => {
    document.title = `${a.title} — Vigie`
    replace(body,
      h('div', { class: 'toolbar' }, h('h1', null, a.title), h('div', { class: 'grow' }), h('a', { class: 'button', href: `#/kb/${encodeURIComponent(a.id)}/edit` }, t('kb.edit'))),
      h('div', { class: 'tags' }, ...(a.tags ?? []).map(tag => h('span', { class: 'tag' }, tag)),
        a.resolvedCount !== undefined ? h('span', { class: 'muted' }, t('kb.resolvedCount', { n: a.resolvedCount })) : null,
        a.updatedAt !== undefined ? h('span', { class: 'muted' }, t('kb.updated', { rel: formatRelative(a.updatedAt) })) : null),
      h('h2', null, t('kb.symptoms')), prose(a.symptoms),
      h('h2', null, t('kb.cause')), prose(a.cause),
      h('h2', null, t('kb.steps')), h('ol', { class: 'steps' }, ...a.steps.map(step => h('li', null, step))))
  }, (err: unknown) => { replace(body, h('p', { class: 'error' }, unavailableOr(err))) })
  return { el, destroy: () => {}, onKey: (e) => { if (e.key === 'Escape') { navigate('/kb'); return true } return false } }
}

export function kbEditView (id?: string): View {
  const field = (name: string, multiline: boolean): HTMLInputElement | HTMLTextAreaElement =>
    multiline ? h('textarea', { name, rows: name === 'steps' ? '8' : '4' }) : h('input', { name })
  const title = field('title', false)
  const symptoms = field('symptoms', true)
  const cause = field('cause', true)
  const steps = field('steps', true)
  const tags = field('tags', false)
  const kindBoxes = FINDING_KINDS.map(k => h('input', { type: 'checkbox', name: 'findingKinds', value: k }))
  title.required = true
  const status = h('p', { role: 'status', class: 'action-status' })
  const form = h('form', { class: 'card kb-form', onsubmit: (e: Event) => { e.preventDefault(); void save() } },
    h('label', null, t('kb.articleTitle'), title),
    h('label', null, t('kb.symptoms'), symptoms),
    h('label', null, t('kb.cause'), cause),
    h('label', null, t('kb.stepsOnePerLine'), steps),
    h('label', null, t('kb.tags'), tags),
    h('fieldset', { class: 'kinds' }, h('legend', null, t('kb.findingKinds')), ...kindBoxes.map(b => h('label', { class: 'check' }, b, ' ', t(`kind.${b.value}` as 'kind.threshold')))),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, t('action.save')), h('a', { class: 'button ghost', href: id === undefined ? '#/kb' : href('kb', id) }, t('action.cancel'))),
    status)
  const el = h('div', { class: 'page kb', 'data-view': 'kb-edit' }, h('a', { class: 'back', href: '#/kb' }, t('kb.back')), h('h1', null, id === undefined ? t('kb.new') : t('kb.edit')), form)
  const list = (s: string): string[] => s.split(',').map(x => x.trim()).filter(x => x !== '')
  const lines = (s: string): string[] => s.split(/\r?\n/).map(x => x.replace(/^(\d+[.)]|[-*•])\s+/, '').trim()).filter(x => x !== '')

  if (id !== undefined) {
    api.kbGet(id).then((a: KbArticle) => {
      title.value = a.title; symptoms.value = a.symptoms; cause.value = a.cause; steps.value = a.steps.join('\n')
      tags.value = (a.tags ?? []).join(', ')
      for (const b of kindBoxes) b.checked = (a.findingKinds ?? []).includes(b.value)
    }, (err: unknown) => { setText(status, unavailableOr(err)) })
  }

  async function save (): Promise<void> {
    const article = {
      title: title.value.trim(),
      symptoms: symptoms.value.trim(),
      cause: cause.value.trim(),
      steps: lines(steps.value),
      tags: list(tags.value),
      findingKinds: FINDING_KINDS.filter((_k, i) => kindBoxes[i].checked)
    }
    setText(status, '…')
    try {
      const saved = id === undefined ? await api.kbCreate(article) : await api.kbUpdate(id, article)
      setText(status, t('kb.saved'))
      const savedId = (saved as { id?: string, article?: { id: string } }).id ?? (saved as { article?: { id: string } }).article?.id ?? id
      if (savedId !== undefined) navigate(`/kb/${encodeURIComponent(savedId)}`)
    } catch (err) {
      setText(status, t('action.failed', { msg: (err as Error).message }))
    }
  }
  return { el, destroy: () => {}, focusSearch: () => { title.focus() } }
}
