/**
 * Where the knowledge base is kept: the interface every store implements (SQLite
 * with FTS5 in sqlite-store.ts; a network database later), with its contract in
 * test/collector/kb/contract.ts. The store keeps articles, answers text searches
 * with its own relevance, and keeps which incidents each article resolved; the
 * scoring of suggestions (boosts, normalisation) is the knowledge base's own
 * (knowledge-base.ts), the same whatever the store.
 */

/** An article as stored; times in epoch ms. */
export interface StoredArticle {
  id: string
  title: string
  symptoms: string
  cause: string
  steps: string[]
  tags: string[]
  findingKinds: string[]
  keyPatterns: string[]
  version: number
  createdMs: number
  updatedMs: number
  createdBy: string
  updatedBy: string
  sourceIncidentId?: string
}

export interface TextHit {
  article: StoredArticle
  /** higher is more relevant (> 0); on the store's own scale: compare hits of one search only */
  relevance: number
  /** a short extract with the matched words in [brackets] */
  snippet: string
}

export type LinkOutcome = 'resolved' | 'regressed' | 'verified'

export interface KbRepository {
  get: (id: string) => Promise<StoredArticle | undefined>
  /** Adds an article and indexes it for text search; an id already kept is refused. */
  insert: (a: StoredArticle) => Promise<void>
  /** Replaces every field of a kept article and re-indexes it. */
  update: (a: StoredArticle) => Promise<void>
  /** The most recently updated first, with the count of all articles. */
  recent: (limit: number, offset: number) => Promise<{ total: number, items: StoredArticle[] }>
  /**
   * Articles matching any of `terms` (words, lower-case; taken literally, never as
   * query syntax), most relevant first; a word in the title weighs most, then tags,
   * symptoms, then cause and steps. Word forms match (porter stemming on SQLite:
   * "filling" finds "fill").
   */
  textSearch: (terms: readonly string[], limit: number, offset: number) => Promise<{ total: number, hits: TextHit[] }>
  /** Articles with key patterns or finding kinds, the most recently updated first, at most `limit`. */
  structured: (limit: number) => Promise<StoredArticle[]>

  /** Records that the incident was resolved with the article, of a key family; again: back to 'resolved' (the family first given is kept). */
  link: (articleId: string, incidentId: string, family: string, atMs: number) => Promise<void>
  /** The incident's resolution regressed or was verified. */
  setOutcome: (incidentId: string, outcome: Exclude<LinkOutcome, 'resolved'>) => Promise<void>
  /** Incidents the article resolved that did not regress; of one key family when given. */
  resolvedCount: (articleId: string, family?: string) => Promise<number>
}
