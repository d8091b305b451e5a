/**
 * Security headers on every response (API, static files, errors, 404s, 429s):
 * a strict Content-Security-Policy (scripts, styles and connections from our own
 * origin only, no inline script or style, no framing), X-Frame-Options, nosniff
 * and Referrer-Policy. The dashboards are built to need nothing more: one module
 * script, two style sheets, styles set only through the CSSOM, no inline handlers.
 *
 * Source maps are not served unless `sourceMaps` is on (VIGIE_SOURCE_MAPS): a
 * `.map` URL answers 404 like any unknown path.
 */
import type { FastifyInstance } from 'fastify'
import { errorBody } from './errors.js'

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin'
}

/** a quick test before the exact one: almost no URL contains ".map" */
const MAP_HINT = /\.map/i

export function installSecurityHeaders (app: FastifyInstance, opts: { sourceMaps: boolean }): void {
  // onRequest, first of all hooks: the headers are on the reply before any hook or
  // handler can answer, so refusals (401, 429, 404) carry them too.
  // A callback hook, not an async one: it runs on every request, and an async hook
  // costs a promise and a microtask each time (measured on the ingest path).
  app.addHook('onRequest', (request, reply, done) => {
    void reply.headers(SECURITY_HEADERS)
    if (!opts.sourceMaps && MAP_HINT.test(request.url)) {
      const path = request.url.split('?')[0]
      if (/\.map$/i.test(path)) {
        void reply.code(404).send(errorBody('VIGIE_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${path}`))
        return
      }
    }
    done()
  })
}
