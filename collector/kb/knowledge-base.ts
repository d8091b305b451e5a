/**
 * The knowledge base: articles, full-text search, suggestions for new incidents
 * (the store's text relevance normalised to the best candidate, plus structured
 * boosts) and a ledger of which incidents each article resolved, so suggestions
 * say how often a fix worked. docs/kb.md explains the scoring. Persistence is a
 * KbRepository (SQLite with FTS5 in sqlite-store.ts).
 */
import { newId } from '../core/secrets.js'
import { VigieError } from '../core/errors.js'
import { keyFamily, matchesKeyPattern, metricOf } from '../incidents/key-pattern.js'
import type { Article, ArticleBody, KbQuery, ScoredSuggestion, SuggestInput } from './model.js'
import type { KbRepository, StoredArticle } from './repository.js'

/** Structured boosts added to the normalised text score (0–1). */
export const BOOSTS = {
  /** one of the article's key patterns matches the incident's finding key */
  keyPattern: 1.5,
  /** the article lists the incident's finding kind… */
  kind: 0.25,
  /** …or lists only other kinds (a threshold article for a forecast incident) */
  otherKind: -0.5,
  /** the article names the incident's metric in its key patterns or tags */
  metric: 0.5,
  /** the article is tagged or titled with an application involved */
  software: 0.75,
  /** per doubling of similar incidents it resolved */
  resolved: 0.15
} as const

/** Below this an article is not suggested. */
const MIN_SCORE = 0.2
const STOPWORDS = new Set(['the', 'and', 'for', 'is', 'at', 'on', 'of', 'in', 'to', 'a', 'an', 'its', 'it', 'than', 'vs', 'with', 'back', 'rule', 'usually'])

/** Words of a text worth searching for, lower-cased, deduplicated, without numbers. */
export function searchTerms (text: string, max = 32): string[] {
  const out = new Set<string>()
  for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (w.length < 2 || /^\d+$/.test(w) || STOPWORDS.has(w)) continue
    out.add(w)
    if (out.size >= max) break
  }
  return [...out]
}

/** Text candidates a suggestion considers, and structured ones (key patterns, kinds). */
const TEXT_CANDIDATES = 50
const STRUCTURED_CANDIDATES = 5000

export class KnowledgeBase {
  readonly #store: KbRepository
  readonly #now: () => number

  constructor (store: KbRepository, now: () => number = Date.now) {
    this.#store = store
    this.#now = now
  }

  async #json (s: StoredArticle): Promise<Article> {
    const a: Article = {
      id: s.id,
      title: s.title,
      symptoms: s.symptoms,
      cause: s.cause,
      steps: s.steps,
      tags: s.tags,
      findingKinds: s.findingKinds,
      keyPatterns: s.keyPatterns,
      version: s.version,
      createdAt: new Date(s.createdMs).toISOString(),
      updatedAt: new Date(s.updatedMs).toISOString(),
      createdBy: s.createdBy,
      updatedBy: s.updatedBy,
      resolvedCount: await this.#store.resolvedCount(s.id)
    }
    if (s.sourceIncidentId !== undefined) a.sourceIncidentId = s.sourceIncidentId
    return a
  }

  async #stored (id: string): Promise<StoredArticle> {
    const s = await this.#store.get(id)
    if (s === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no knowledge-base article ${id}`)
    return s
  }

  async get (id: string): Promise<Article | undefined> {
    const s = await this.#store.get(id)
    return s === undefined ? undefined : await this.#json(s)
  }

  /** The article's title, without the resolved count an Article carries (for lists of suggestions). */
  async titleOf (id: string): Promise<string | undefined> {
    return (await this.#store.get(id))?.title
  }

  /** Throws VIGIE_ERR_NOT_FOUND for an unknown id. */
  async require (id: string): Promise<Article> {
    return await this.#json(await this.#stored(id))
  }

  async create (body: ArticleBody, by: string, sourceIncidentId?: string): Promise<Article> {
    const now = this.#now()
    const a: StoredArticle = {
      id: newId('kb'),
      ...normalise(body),
      version: 1,
      createdMs: now,
      updatedMs: now,
      createdBy: by,
      updatedBy: by,
      ...(sourceIncidentId !== undefined ? { sourceIncidentId } : {})
    }
    await this.#store.insert(a)
    return await this.#json(a)
  }

  /** Replaces the article's fields (PUT); fields left out become empty. */
  async replace (id: string, body: ArticleBody, by: string): Promise<Article> {
    return await this.#write(await this.#stored(id), normalise(body), by)
  }

  /** Changes only the given fields; list fields given are merged (union) when `merge` is set. */
  async patch (id: string, body: Partial<ArticleBody>, by: string, merge: { tags?: boolean, findingKinds?: boolean, keyPatterns?: boolean } = {}): Promise<Article> {
    const cur = await this.#stored(id)
    const union = (a: string[], b: string[] | undefined, on: boolean | undefined): string[] => b === undefined ? a : on === true ? [...new Set([...a, ...b])] : b
    const next = normalise({
      title: body.title ?? cur.title,
      symptoms: body.symptoms ?? cur.symptoms,
      cause: body.cause ?? cur.cause,
      steps: body.steps ?? cur.steps,
      tags: union(cur.tags, body.tags, merge.tags),
      findingKinds: union(cur.findingKinds, body.findingKinds, merge.findingKinds) as ArticleBody['findingKinds'],
      keyPatterns: union(cur.keyPatterns, body.keyPatterns, merge.keyPatterns)
    })
    return await this.#write(cur, next, by)
  }

  async #write (cur: StoredArticle, a: Required<ArticleBody>, by: string): Promise<Article> {
    const next: StoredArticle = { ...cur, ...a, version: cur.version + 1, updatedMs: this.#now(), updatedBy: by }
    await this.#store.update(next)
    return await this.#json(next)
  }

  /** Full-text search, or the most recently updated articles without `q`. */
  async search (q: KbQuery): Promise<{ total: number, items: Array<Article & { score?: number, snippet?: string }> }> {
    const limit = q.limit ?? 20
    const offset = q.offset ?? 0
    const terms = q.q === undefined ? [] : searchTerms(q.q)
    if (terms.length === 0) {
      const { total, items } = await this.#store.recent(limit, offset)
      return { total, items: await Promise.all(items.map(async (s) => await this.#json(s))) }
    }
    const { total, hits } = await this.#store.textSearch(terms, limit, offset)
    return { total, items: await Promise.all(hits.map(async (h) => ({ ...await this.#json(h.article), score: round(h.relevance), snippet: h.snippet }))) }
  }

  /**
   * Top articles for an incident: candidates from full-text (the incident's title,
   * metric, rule and software) and from structured links (key patterns, kinds);
   * score = text relevance (normalised to the best candidate) + boosts (see
   * BOOSTS). Returns at most `limit`, best first.
   */
  async suggest (input: SuggestInput, limit = 3): Promise<ScoredSuggestion[]> {
    const metric = metricOf(input.series)
    const family = keyFamily(input.key)
    const software = (input.software ?? []).map((s) => s.toLowerCase())
    const terms = searchTerms([input.title, metric ?? '', family.split(':').slice(1).join(' '), ...software].join(' '))
    const cands = new Map<string, { a: StoredArticle, text: number }>()
    if (terms.length > 0) {
      for (const h of (await this.#store.textSearch(terms, TEXT_CANDIDATES, 0)).hits) cands.set(h.article.id, { a: h.article, text: h.relevance })
    }
    for (const a of await this.#store.structured(STRUCTURED_CANDIDATES)) if (!cands.has(a.id)) cands.set(a.id, { a, text: 0 })

    const best = Math.max(1e-9, ...[...cands.values()].map((c) => c.text))
    const out: ScoredSuggestion[] = []
    for (const { a, text } of cands.values()) {
      let score = text / best
      const tags = a.tags.map((t) => t.toLowerCase())
      const title = a.title.toLowerCase()
      const byKey = a.keyPatterns.some((p) => matchesKeyPattern(p, input.key))
      const byMetric = metric !== undefined && (tags.includes(metric) || a.keyPatterns.some((p) => p.includes(metric)))
      const bySoftware = software.some((s) => tags.includes(s) || title.includes(s))
      // a kind alone says too little: structured-only candidates need a key, metric or software link
      if (text === 0 && !byKey && !byMetric && !bySoftware) continue
      if (byKey) score += BOOSTS.keyPattern
      if (a.findingKinds.includes(input.kind)) score += BOOSTS.kind
      else if (a.findingKinds.length > 0) score += BOOSTS.otherKind
      if (byMetric) score += BOOSTS.metric
      if (bySoftware) score += BOOSTS.software
      const resolved = await this.#store.resolvedCount(a.id, family)
      if (resolved > 0) score += BOOSTS.resolved * Math.log2(1 + resolved)
      if (score < MIN_SCORE) continue
      out.push({ articleId: a.id, title: a.title, score: round(score), resolvedCount: resolved })
    }
    out.sort((a, b) => b.score - a.score || a.title.localeCompare(b.title))
    return out.slice(0, limit)
  }

  /* ---- which incidents each article resolved ---- */

  /** Records that `incidentId` was resolved with the article (idempotent). */
  async link (articleId: string, incidentId: string, key: string): Promise<void> {
    await this.#store.link(articleId, incidentId, keyFamily(key), this.#now())
  }

  /** The incident's resolution regressed or was verified: counts follow. */
  async setOutcome (incidentId: string, outcome: 'regressed' | 'verified'): Promise<void> {
    await this.#store.setOutcome(incidentId, outcome)
  }

  /** Incidents the article resolved that did not regress; of one key family when given. */
  async resolvedCount (articleId: string, family?: string): Promise<number> {
    return await this.#store.resolvedCount(articleId, family)
  }
}

function normalise (b: Partial<ArticleBody> & { title: string }): Required<ArticleBody> {
  return {
    title: b.title.trim(),
    symptoms: b.symptoms ?? '',
    cause: b.cause ?? '',
    steps: b.steps ?? [],
    tags: [...new Set(b.tags ?? [])],
    findingKinds: [...new Set(b.findingKinds ?? [])] as Required<ArticleBody>['findingKinds'],
    keyPatterns: [...new Set(b.keyPatterns ?? [])]
  }
}

function round (x: number): number {
  return Math.round(x * 1000) / 1000
}
