/**
 * GET /metrics — Prometheus text format, for a scraper holding the tenant's METRICS_TOKEN (Bearer), never the API
 * key. Without a METRICS_TOKEN in the tenant file the route answers 404 like any unknown route: nothing is exposed
 * and nothing says metrics could be. A wrong or missing token is 401, counted in clt_v8_auth_failures_total; wrong
 * tokens lock the sending address out (429, counted as locked_out) exactly as wrong API keys do (http/auth.ts).
 */
import type { FastifyPluginAsync } from 'fastify'
import { requireBearer, type AuthFailureGuard } from '../auth.js'
import type { TenantMetrics } from '../metrics.js'

export interface MetricsRouteOptions {
  metrics: TenantMetrics
  /** The token in force (read at each scrape: a saved or re-read file applies at once); '' = off. */
  token: () => string
  /** Wrong tokens per client address (its own guard: a scraper left with an old token locks out no API client). */
  guard: AuthFailureGuard
}

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, opts) => {
  const checkToken = requireBearer(opts.token, opts.guard, (reason) => opts.metrics.authFailure(reason === 'locked_out' ? reason : 'metrics_token'), {
    unauthorized: 'Token de métricas ausente ou inválido: envie Authorization: Bearer <METRICS_TOKEN>.',
    tooMany: (seconds) => `Muitos tokens de métricas errados deste endereço; tente de novo em ${seconds} s.`,
    lockedLog: 'auth: client locked out after repeated wrong metrics tokens',
  })
  /** GET /metrics */
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (req, reply) => {
    // Off: the app's own not-found answer, as for any unknown route (before any token is looked at or counted).
    if (opts.token() === '') return reply.callNotFound()
    await checkToken(req, reply)
    const { text, contentType } = await opts.metrics.render()
    return reply.header('cache-control', 'no-store').type(contentType).send(text)
  })
}
