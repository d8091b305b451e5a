/** /api/v1/kb…: viewers read and search; technicians write. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { ErrorBody } from '../../protocol/index.js'
import { Article, ArticleBody, ArticleList, KbQuery } from './model.js'

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
const who = (request: FastifyRequest): string => request.technician?.name ?? 'unknown'

export async function kbRoutes (app: FastifyInstance, _opts: unknown): Promise<void> {
  const kb = app.kb
  const viewer = app.requireRole('viewer')
  const technician = app.requireRole('technician')
  const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody }
  const tags = ['kb']

  app.get('/api/v1/kb', {
    onRequest: viewer,
    schema: { summary: 'Search the knowledge base (full text, bm25) or list recent articles', tags, querystring: KbQuery, response: { 200: ArticleList, ...errors } }
  }, async (request) => kb.search(request.query as Static<typeof KbQuery>))

  app.get('/api/v1/kb/:id', {
    onRequest: viewer,
    schema: { summary: 'One article', tags, params: IdParams, response: { 200: Article, ...errors } }
  }, async (request) => kb.require((request.params as { id: string }).id))

  app.post('/api/v1/kb', {
    onRequest: technician,
    schema: { summary: 'Create an article', tags, body: ArticleBody, response: { 201: Article, ...errors } }
  }, async (request, reply) => reply.code(201).send(await kb.create(request.body as Static<typeof ArticleBody>, who(request))))

  app.put('/api/v1/kb/:id', {
    onRequest: technician,
    schema: { summary: 'Replace an article (version is incremented)', tags, params: IdParams, body: ArticleBody, response: { 200: Article, ...errors } }
  }, async (request) => kb.replace((request.params as { id: string }).id, request.body as Static<typeof ArticleBody>, who(request)))
}
