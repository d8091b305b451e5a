/**
 * The knowledge base's store (repository.ts) in the collector's SQLite database:
 * articles in a table, indexed with FTS5 (porter stemming), relevance from bm25
 * with per-column weights, and the ledger of which incidents each article resolved.
 */
import { migrate, type Db } from '../store/sqlite/db.js'
import type { KbRepository, StoredArticle, TextHit } from './repository.js'

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

interface RawArticle {
  n: number, id: string, title: string, symptoms: string, cause: string, steps_json: string, tags_json: string, kinds_json: string,
  key_patterns_json: string, version: number, created_ms: number, updated_ms: number, created_by: string, updated_by: string,
  source_incident_id: string | null
}

function fromRaw (r: RawArticle): StoredArticle {
  const a: StoredArticle = {
    id: r.id,
    title: r.title,
    symptoms: r.symptoms,
    cause: r.cause,
    steps: JSON.parse(r.steps_json) as string[],
    tags: JSON.parse(r.tags_json) as string[],
    findingKinds: JSON.parse(r.kinds_json) as string[],
    keyPatterns: JSON.parse(r.key_patterns_json) as string[],
    version: r.version,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
    createdBy: r.created_by,
    updatedBy: r.updated_by
  }
  if (r.source_incident_id !== null) a.sourceIncidentId = r.source_incident_id
  return a
}

/** An FTS5 query matching any of the terms (each quoted, so no operator injection). */
function ftsAny (terms: readonly string[]): string {
  return terms.map((t) => '"' + t.replace(/"/g, '""') + '"').join(' OR ')
}

export class SqliteKbStore implements KbRepository {
  readonly #db: Db

  constructor (db: Db) {
    this.#db = db
    migrate(db, { name: 'kb', sql: MIGRATIONS })
  }

  #index (n: number, a: StoredArticle): void {
    this.#db.prepare('DELETE FROM kb_fts WHERE rowid = ?').run(n)
    this.#db.prepare('INSERT INTO kb_fts (rowid, title, symptoms, cause, steps, tags) VALUES (?, ?, ?, ?, ?, ?)')
      .run(n, a.title, a.symptoms, a.cause, a.steps.join('\n'), a.tags.join(' '))
  }

  async get (id: string): Promise<StoredArticle | undefined> {
    const r = this.#db.prepare('SELECT * FROM kb_articles WHERE id = ?').get(id) as RawArticle | undefined
    return r === undefined ? undefined : fromRaw(r)
  }

  async insert (a: StoredArticle): Promise<void> {
    this.#db.transaction(() => {
      const n = this.#db.prepare(`INSERT INTO kb_articles (id, title, symptoms, cause, steps_json, tags_json, kinds_json, key_patterns_json, version, created_ms, updated_ms, created_by, updated_by, source_incident_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(a.id, a.title, a.symptoms, a.cause, JSON.stringify(a.steps), JSON.stringify(a.tags), JSON.stringify(a.findingKinds), JSON.stringify(a.keyPatterns),
          a.version, a.createdMs, a.updatedMs, a.createdBy, a.updatedBy, a.sourceIncidentId ?? null)
        .lastInsertRowid as number
      this.#index(n, a)
    })()
  }

  async update (a: StoredArticle): Promise<void> {
    this.#db.transaction(() => {
      const r = this.#db.prepare('SELECT n FROM kb_articles WHERE id = ?').get(a.id) as { n: number } | undefined
      if (r === undefined) throw new Error(`no knowledge-base article ${a.id} to update`)
      this.#db.prepare(`UPDATE kb_articles SET title = ?, symptoms = ?, cause = ?, steps_json = ?, tags_json = ?, kinds_json = ?, key_patterns_json = ?,
        version = ?, created_ms = ?, updated_ms = ?, created_by = ?, updated_by = ?, source_incident_id = ? WHERE n = ?`)
        .run(a.title, a.symptoms, a.cause, JSON.stringify(a.steps), JSON.stringify(a.tags), JSON.stringify(a.findingKinds), JSON.stringify(a.keyPatterns),
          a.version, a.createdMs, a.updatedMs, a.createdBy, a.updatedBy, a.sourceIncidentId ?? null, r.n)
      this.#index(r.n, a)
    })()
  }

  async recent (limit: number, offset: number): Promise<{ total: number, items: StoredArticle[] }> {
    const total = (this.#db.prepare('SELECT count(*) AS n FROM kb_articles').get() as { n: number }).n
    const rows = this.#db.prepare('SELECT * FROM kb_articles ORDER BY updated_ms DESC, n DESC LIMIT ? OFFSET ?').all(limit, offset) as RawArticle[]
    return { total, items: rows.map(fromRaw) }
  }

  async textSearch (terms: readonly string[], limit: number, offset: number): Promise<{ total: number, hits: TextHit[] }> {
    if (terms.length === 0) return { total: 0, hits: [] }
    const match = ftsAny(terms)
    const total = (this.#db.prepare('SELECT count(*) AS n FROM kb_fts WHERE kb_fts MATCH ?').get(match) as { n: number }).n
    const rows = this.#db.prepare(`SELECT a.*, ${BM25} AS rank, snippet(kb_fts, -1, '[', ']', '…', 12) AS snip
      FROM kb_fts JOIN kb_articles a ON a.n = kb_fts.rowid WHERE kb_fts MATCH ? ORDER BY rank LIMIT ? OFFSET ?`)
      .all(match, limit, offset) as Array<RawArticle & { rank: number, snip: string }>
    // bm25 is lower for better matches and negative: its negation is the relevance
    return { total, hits: rows.map((r) => ({ article: fromRaw(r), relevance: -r.rank, snippet: r.snip })) }
  }

  async structured (limit: number): Promise<StoredArticle[]> {
    return (this.#db.prepare("SELECT * FROM kb_articles WHERE key_patterns_json != '[]' OR kinds_json != '[]' ORDER BY updated_ms DESC, n DESC LIMIT ?").all(limit) as RawArticle[]).map(fromRaw)
  }

  async link (articleId: string, incidentId: string, family: string, atMs: number): Promise<void> {
    this.#db.prepare(`INSERT INTO kb_links (article_id, incident_id, family, outcome, at_ms) VALUES (?, ?, ?, 'resolved', ?)
      ON CONFLICT(article_id, incident_id) DO UPDATE SET outcome = 'resolved', at_ms = excluded.at_ms`).run(articleId, incidentId, family, atMs)
  }

  async setOutcome (incidentId: string, outcome: 'regressed' | 'verified'): Promise<void> {
    this.#db.prepare('UPDATE kb_links SET outcome = ? WHERE incident_id = ?').run(outcome, incidentId)
  }

  async resolvedCount (articleId: string, family?: string): Promise<number> {
    const row = family === undefined
      ? this.#db.prepare("SELECT count(*) AS n FROM kb_links WHERE article_id = ? AND outcome != 'regressed'").get(articleId)
      : this.#db.prepare("SELECT count(*) AS n FROM kb_links WHERE article_id = ? AND family = ? AND outcome != 'regressed'").get(articleId, family)
    return (row as { n: number }).n
  }
}
