/** Knowledge-base article shapes (API, OpenAPI and TypeScript from one TypeBox object). */
import { Type, type Static } from 'typebox'
import { KindSchema as Kind } from '../incidents/model.js'

export const ArticleBody = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 300 }),
  symptoms: Type.Optional(Type.String({ maxLength: 10_000 })),
  cause: Type.Optional(Type.String({ maxLength: 10_000 })),
  steps: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4000 }), { maxItems: 100, description: 'fix steps, in order' })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50, description: 'free tags; software names and metric names count as structured hints' })),
  findingKinds: Type.Optional(Type.Array(Kind, { maxItems: 6, description: 'finding kinds this article is about' })),
  keyPatterns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 50, description: 'finding key patterns (`*` wildcard), e.g. rule:disk_full:*' }))
}, { additionalProperties: false })
export type ArticleBody = Static<typeof ArticleBody>

export const Article = Type.Object({
  id: Type.String(),
  title: Type.String(),
  symptoms: Type.String(),
  cause: Type.String(),
  steps: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  findingKinds: Type.Array(Type.String()),
  keyPatterns: Type.Array(Type.String()),
  version: Type.Integer({ description: 'incremented on each update' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  createdBy: Type.String(),
  updatedBy: Type.String(),
  sourceIncidentId: Type.Optional(Type.String({ description: 'the incident whose resolution became this article' })),
  resolvedCount: Type.Integer({ description: 'incidents resolved with this article (not counting regressions)' })
})
export type Article = Static<typeof Article>

export const ArticleHit = Type.Object({
  ...Article.properties,
  score: Type.Optional(Type.Number({ description: 'search relevance (higher is better)' })),
  snippet: Type.Optional(Type.String())
})
export type ArticleHit = Static<typeof ArticleHit>

export const ArticleList = Type.Object({ total: Type.Integer(), items: Type.Array(ArticleHit) })

export const KbQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 500, description: 'full-text search (words, any order)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 }))
}, { additionalProperties: false })
export type KbQuery = Static<typeof KbQuery>

/** What the suggester knows about an incident. */
export interface SuggestInput {
  kind: string
  key: string
  title: string
  series?: string
  /** applications involved (suspected change, or named in evidence) */
  software?: string[]
}

export interface ScoredSuggestion {
  articleId: string
  title: string
  score: number
  resolvedCount: number
}
