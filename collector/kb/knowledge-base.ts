/**
 * The knowledge base: articles in SQLite, indexed with FTS5 (porter stemming),
 * ranked with bm25 plus structured boosts for suggestions on new incidents, and
 * a ledger of which incidents each article resolved (so suggestions say how
 * often a fix worked). docs/kb.md explains the scoring.
 */
import { migrate, type Db } from '../store/sqlite/db.js'
import { newId } from '../core/secrets.js'
import { VigieError } from '../core/errors.js'
import { keyFamily, matchesKeyPattern, metricOf } from '../incidents/key-pattern.js'
import type { Article, ArticleBody, KbQuery, ScoredSuggestion, SuggestInput } from './model.js'

const MIGRATIONS = [
  `
  CREATE TABLE kb_articles (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    symptoms TEXT NOT NULL,
    cause TEXT NOT NULL,
    steps_json TEXT NOT NULL,
    tags_json TEXT NOT NULL,
    kinds_json TEXT NOT NULL,
    key_patterns_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    source_incident_id TEXT
  );
  CREATE VIRTUAL TABLE kb_fts USING fts5(title, symptoms, cause, steps, tags, tokenize = 'porter unicode61');
  CREATE TABLE kb_links (
    article_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    family TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (article_id, incident_id)
  ) WITHOUT ROWID;
  CREATE INDEX kb_links_incident ON kb_links(incident_id);
  CREATE INDEX kb_links_family ON kb_links(article_id, family, outcome);
  `
]

/** bm25 column weights: title, symptoms, cause, steps, tags. */
const BM25 = 'bm25(kb_fts, 4.0, 2.0, 1.0, 1.0, 3.0)'

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

interface RawArticle {
  n: number, id: string, title: string, symptoms: string, cause: string, steps_json: string, tags_json: string, kinds_json: string,
  key_patterns_json: string, version: number, created_ms: number, updated_ms: number, created_by: string, updated_by: string,
  source_incident_id: string | null
}

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

/** An FTS5 query matching any of the terms (each quoted, so no operator injection). */
function ftsAny (terms: string[]): string {
  return terms.map((t) => '"' + t.replace(/"/g, '""') + '"').join(' OR ')
}

export class KnowledgeBase {
  readonly #db: Db
  readonly #now: () => number

  constructor (db: Db, now: () => number = Date.now) {
    this.#db = db
    this.#now = now
    migrate(db, { name: 'kb', sql: MIGRATIONS })
  }

  #raw (id: string): RawArticle | undefined {
    return this.#db.prepare('SELECT * FROM kb_articles WHERE id = ?').get(id) as RawArticle | undefined
  }

  #json (r: RawArticle): Article {
    const a: Article = {
      id: r.id,
      title: r.title,
      symptoms: r.symptoms,
      cause: r.cause,
      steps: JSON.parse(r.steps_json) as string[],
      tags: JSON.parse(r.tags_json) as string[],
      findingKinds: JSON.parse(r.kinds_json) as string[],
      keyPatterns: JSON.parse(r.key_patterns_json) as string[],
      version: r.version,
      createdAt: new Date(r.created_ms).toISOString(),
      updatedAt: new Date(r.updated_ms).toISOString(),
      createdBy: r.created_by,
      updatedBy: r.updated_by,
      resolvedCount: this.resolvedCount(r.id)
    }
    if (r.source_incident_id !== null) a.sourceIncidentId = r.source_incident_id
    return a
  }

  #index (n: number, a: { title: string, symptoms: string, cause: string, steps: string[], tags: string[] }): void {
    this.#db.prepare('DELETE FROM kb_fts WHERE rowid = ?').run(n)
    this.#db.prepare('INSERT INTO kb_fts (rowid, title, symptoms, cause, steps, tags) VALUES (?, ?, ?, ?, ?, ?)')
      .run(n, a.title, a.symptoms, a.cause, a.steps.join('\n'), a.tags.join(' '))
  }

  get (id: string): Article | undefined {
    const r = this.#raw(id)
    return r === undefined ? undefined : this.#json(r)
  }

  /** Throws VIGIE_ERR_NOT_FOUND for an unknown id. */
  require (id: string): Article {
    const a = this.get(id)
    if (a === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no knowledge-base article ${id}`)
    return a
  }

  create (body: ArticleBody, by: string, sourceIncidentId?: string): Article {
    const id = newId('kb')
    const now = this.#now()
    const a = normalise(body)
    this.#db.transaction(() => {
      const n = this.#db.prepare(`INSERT INTO kb_articles (id, title, symptoms, cause, steps_json, tags_json, kinds_json, key_patterns_json, version, created_ms, updated_ms, created_by, updated_by, source_incident_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`)
        .run(id, a.title, a.symptoms, a.cause, JSON.stringify(a.steps), JSON.stringify(a.tags), JSON.stringify(a.findingKinds), JSON.stringify(a.keyPatterns), now, now, by, by, sourceIncidentId ?? null)
        .lastInsertRowid as number
      this.#index(n, a)
    })()
    return this.require(id)
  }

  /** Replaces the article's fields (PUT); fields left out become empty. */
  replace (id: string, body: ArticleBody, by: string): Article {
    const r = this.#raw(id)
    if (r === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no knowledge-base article ${id}`)
    this.#write(r, normalise(body), by)
    return this.require(id)
  }

  /** Changes only the given fields; list fields given are merged (union) when `merge` is set. */
  patch (id: string, body: Partial<ArticleBody>, by: string, merge: { tags?: boolean, findingKinds?: boolean, keyPatterns?: boolean } = {}): Article {
    const r = this.#raw(id)
    if (r === undefined) throw new VigieError('VIGIE_ERR_NOT_FOUND', `no knowledge-base article ${id}`)
    const cur = this.#json(r)
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
    this.#write(r, next, by)
    return this.require(id)
  }

  #write (r: RawArticle, a: Required<ArticleBody>, by: string): void {
    this.#db.transaction(() => {
      this.#db.prepare(`UPDATE kb_articles SET title = ?, symptoms = ?, cause = ?, steps_json = ?, tags_json = ?, kinds_json = ?, key_patterns_json = ?,
        version = version + 1, updated_ms = ?, updated_by = ? WHERE n = ?`)
        .run(a.title, a.symptoms, a.cause, JSON.stringify(a.steps), JSON.stringify(a.tags), JSON.stringify(a.findingKinds), JSON.stringify(a.keyPatterns), this.#now(), by, r.n)
      this.#index(r.n, a)
    })()
  }

  /** Full-text search (bm25), or the most recently updated articles without `q`. */
  search (q: KbQuery): { total: number, items: Array<Article & { score?: number, snippet?: string }> } {
    const limit = q.limit ?? 20
    const offset = q.offset ?? 0
    const terms = q.q === undefined ? [] : searchTerms(q.q)
    if (terms.length === 0) {
      const total = (this.#db.prepare('SELECT count(*) AS n FROM kb_articles').get() as { n: number }).n
      const rows = this.#db.prepare('SELECT * FROM kb_articles ORDER BY updated_ms DESC, n DESC LIMIT ? OFFSET ?').all(limit, offset) as RawArticle[]
      return { total, items: rows.map((r) => this.#json(r)) }
    }
    const match = ftsAny(terms)
    const total = (this.#db.prepare('SELECT count(*) AS n FROM kb_fts WHERE kb_fts MATCH ?').get(match) as { n: number }).n
    const rows = this.#db.prepare(`SELECT a.*, ${BM25} AS rank, snippet(kb_fts, -1, '[', ']', '…', 12) AS snip
      FROM kb_fts JOIN kb_articles a ON a.n = kb_fts.rowid WHERE kb_fts MATCH ? ORDER BY rank LIMIT ? OFFSET ?`)
      .all(match, limit, offset) as Array<RawArticle & { rank: number, snip: string }>
    return { total, items: rows.map((r) => ({ ...this.#json(r), score: round(-r.rank), snippet: r.snip })) }
  }

  /**
   * Top articles for an incident: candidates from full-text (bm25 over the
   * incident's title, metric, rule and software) and from structured links
   * (key patterns, kinds); score = text (normalised to the best candidate) +
   * boosts (see BOOSTS). Returns at most `limit`, best first.
   */
  suggest (input: SuggestInput, limit = 3): ScoredSuggestion[] {
    const metric = metricOf(input.series)
    const family = keyFamily(input.key)
    const software = (input.software ?? []).map((s) => s.toLowerCase())
    const terms = searchTerms([input.title, metric ?? '', family.split(':').slice(1).join(' '), ...software].join(' '))
    const cands = new Map<number, { r: RawArticle, text: number }>()
    if (terms.length > 0) {
      const rows = this.#db.prepare(`SELECT a.*, ${BM25} AS rank FROM kb_fts JOIN kb_articles a ON a.n = kb_fts.rowid WHERE kb_fts MATCH ? ORDER BY rank LIMIT 50`)
        .all(ftsAny(terms)) as Array<RawArticle & { rank: number }>
      for (const r of rows) cands.set(r.n, { r, text: -r.rank })
    }
    const structured = this.#db.prepare("SELECT * FROM kb_articles WHERE key_patterns_json != '[]' OR kinds_json != '[]' ORDER BY updated_ms DESC LIMIT 5000").all() as RawArticle[]
    for (const r of structured) if (!cands.has(r.n)) cands.set(r.n, { r, text: 0 })

    const best = Math.max(1e-9, ...[...cands.values()].map((c) => c.text))
    const out: ScoredSuggestion[] = []
    for (const { r, text } of cands.values()) {
      let score = text / best
      const patterns = JSON.parse(r.key_patterns_json) as string[]
      const kinds = JSON.parse(r.kinds_json) as string[]
      const tags = (JSON.parse(r.tags_json) as string[]).map((t) => t.toLowerCase())
      const title = r.title.toLowerCase()
      const byKey = patterns.some((p) => matchesKeyPattern(p, input.key))
      const byMetric = metric !== undefined && (tags.includes(metric) || patterns.some((p) => p.includes(metric)))
      const bySoftware = software.some((s) => tags.includes(s) || title.includes(s))
      // a kind alone says too little: structured-only candidates need a key, metric or software link
      if (text === 0 && !byKey && !byMetric && !bySoftware) continue
      if (byKey) score += BOOSTS.keyPattern
      if (kinds.includes(input.kind)) score += BOOSTS.kind
      else if (kinds.length > 0) score += BOOSTS.otherKind
      if (byMetric) score += BOOSTS.metric
      if (bySoftware) score += BOOSTS.software
      const resolved = this.resolvedCount(r.id, family)
      if (resolved > 0) score += BOOSTS.resolved * Math.log2(1 + resolved)
      if (score < MIN_SCORE) continue
      out.push({ articleId: r.id, title: r.title, score: round(score), resolvedCount: resolved })
    }
    out.sort((a, b) => b.score - a.score || a.title.localeCompare(b.title))
    return out.slice(0, limit)
  }

  /* ---- which incidents each article resolved ---- */

  /** Records that `incidentId` was resolved with the article (idempotent). */
  link (articleId: string, incidentId: string, key: string): void {
    this.#db.prepare(`INSERT INTO kb_links (article_id, incident_id, family, outcome, at_ms) VALUES (?, ?, ?, 'resolved', ?)
      ON CONFLICT(article_id, incident_id) DO UPDATE SET outcome = 'resolved', at_ms = excluded.at_ms`).run(articleId, incidentId, keyFamily(key), this.#now())
  }

  /** The incident's resolution regressed or was verified: counts follow. */
  setOutcome (incidentId: string, outcome: 'regressed' | 'verified'): void {
    this.#db.prepare('UPDATE kb_links SET outcome = ? WHERE incident_id = ?').run(outcome, incidentId)
  }

  /** Incidents the article resolved that did not regress; of one key family when given. */
  resolvedCount (articleId: string, family?: string): number {
    const row = family === undefined
      ? this.#db.prepare("SELECT count(*) AS n FROM kb_links WHERE article_id = ? AND outcome != 'regressed'").get(articleId)
      : this.#db.prepare("SELECT count(*) AS n FROM kb_links WHERE article_id = ? AND family = ? AND outcome != 'regressed'").get(articleId, family)
    return (row as { n: number }).n
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
