/** GET /health — liveness and readiness of this tenant, public (no secrets in it). */
import type { FastifyPluginAsync } from 'fastify'
import { databaseOk } from '../../db/database.js'
import type { AppDeps } from '../app.js'

export const healthRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  /** GET /health */
  app.get('/health', { schema: { hide: true } }, async (_req, reply) => {
    const config = deps.config.get()
    let dbOk = databaseOk(deps.db)
    let batches = { pending: 0, running: 0 }
    let token: { cached: boolean; expires_in: number | null } = { cached: false, expires_in: null }
    if (dbOk) {
      // Both read the database; when it is unusable the database check already says what matters.
      try {
        batches = deps.services.batchCounts()
        token = deps.services.tokenStatus()
      } catch {
        dbOk = false
      }
    }
    const body = {
      status: dbOk ? 'OK' : 'DEGRADED',
      timestamp: new Date(deps.now()).toISOString(),
      uptime: Math.round((deps.now() - deps.startedAt) / 1000),
      environment: config.ENVIRONMENT,
      port: config.PORT,
      tenant: config.TENANT_NAME,
      checks: {
        database: dbOk ? 'ok' : 'unavailable',
        v8_token: { cached: token.cached, expires_in: token.expires_in },
        batches,
      },
    }
    return reply.code(dbOk ? 200 : 503).send(body)
  })
}
