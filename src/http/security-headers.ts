/**
 * The security headers of every response, computed once with helmet at start-up.
 *
 * @fastify/helmet runs `helmet(options)` for each request, rebuilding and re-validating the whole policy (CSP
 * included) every time. The headers depend only on the options, so they are rendered once here and set with one
 * `reply.headers()` per request; a route can still replace one (the Swagger UI routes add their style hash to
 * the CSP).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'

/** The tenant's policy: nothing but its own assets (no CDN, no inline script or style), never framed; no HSTS (TLS ends elsewhere). */
export const SECURITY_HEADER_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
  },
  hsts: false,
}

export function renderSecurityHeaders (options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader (name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    },
    removeHeader (name: string): void {
      delete headers[name.toLowerCase()]
    },
  }
  let failure: unknown
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    failure = err
  })
  if (failure) throw failure
  return headers
}

/** Every response gets the rendered headers (set first, so a route may still replace one). */
export function registerSecurityHeaders (app: Pick<FastifyInstance, 'addHook'>, options: Readonly<HelmetOptions> = SECURITY_HEADER_OPTIONS): void {
  const headers = renderSecurityHeaders(options)
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(headers)
    done()
  })
}
