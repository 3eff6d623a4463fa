/**
 * GET /metrics — Prometheus text format, for a scraper holding the tenant's METRICS_TOKEN (Bearer), never the API
 * key. Without a METRICS_TOKEN in the tenant file the route answers 404 like any unknown route: nothing is exposed
 * and nothing says metrics could be. A wrong or missing token is 401, counted in clt_v8_auth_failures_total.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import { AppError } from '../../errors.js'
import type { TenantMetrics } from '../metrics.js'

export interface MetricsRouteOptions {
  metrics: TenantMetrics
  /** The token in force (read at each scrape: a saved or re-read file applies at once); '' = off. */
  token: () => string
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, opts) => {
  /** GET /metrics */
  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (req, reply) => {
    const token = opts.token()
    // Off: the app's own not-found answer, as for any unknown route.
    if (token === '') return reply.callNotFound()
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) {
      opts.metrics.authFailure('metrics_token')
      throw new AppError('nao_autorizado', 'Token de métricas ausente ou inválido: envie Authorization: Bearer <METRICS_TOKEN>.', 401)
    }
    const { text, contentType } = await opts.metrics.render()
    return reply.header('cache-control', 'no-store').type(contentType).send(text)
  })
}
