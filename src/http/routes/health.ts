/** GET /health — liveness and readiness of this tenant, public (no secrets in it). */
import type { FastifyPluginAsync } from 'fastify'
import { databaseProbe } from '../../db/database.js'
import type { AppDeps } from '../app.js'

/** How long a healthy reading is reused: a burst of probes costs one set of SQLite reads per interval. */
export const HEALTH_CACHE_MS = 1000

interface Checks {
  dbOk: boolean
  batches: { pending: number; running: number }
  token: { cached: boolean; expires_in: number | null }
}

export const healthRoutes: FastifyPluginAsync<{ deps: AppDeps }> = async (app, { deps }) => {
  const databaseOk = databaseProbe(deps.db)
  const cacheMs = deps.healthCacheMs ?? HEALTH_CACHE_MS
  let last: { at: number; checks: Checks } | undefined

  const read = (): Checks => {
    let dbOk = databaseOk()
    let batches = { pending: 0, running: 0 }
    let token: Checks['token'] = { cached: false, expires_in: null }
    if (dbOk) {
      // Both read the database; when it is unusable the database check already says what matters.
      try {
        batches = deps.services.batchCounts()
        const t = deps.services.tokenStatus()
        token = { cached: t.cached, expires_in: t.expires_in }
      } catch {
        dbOk = false
      }
    }
    return { dbOk, batches, token }
  }

  /** GET /health — probes (PM2 scripts, Kubernetes every few seconds) log only when something is wrong. */
  app.get('/health', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const config = deps.config.get()
    const now = performance.now()
    // A healthy reading is reused for up to cacheMs; an unhealthy one never, so recovery shows at the next probe.
    if (!last || now - last.at >= cacheMs || !last.checks.dbOk) last = { at: now, checks: read() }
    const { dbOk, batches, token } = last.checks
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
