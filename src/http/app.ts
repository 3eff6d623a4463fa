/** buildApp(deps): the tenant's fastify app with every route plugin registered here, in one place. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { ConfigStore } from '../config/store.js'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import type { TenantServices } from '../domain/services.js'
import { requireApiKey } from './auth.js'
import { registerErrorHandling } from './errors.js'
import { RequestLog } from './request-log.js'
import { registerSecurityHeaders } from './security-headers.js'
import { healthRoutes } from './routes/health.js'
import { cacheRoutes } from './routes/cache.js'
import { configRoutes } from './routes/config.js'
import { configPageRoutes } from './routes/config-page.js'
import { tenantConfigRoutes } from './routes/config-tenant.js'
import { registerDocs } from './routes/docs.js'
import { cltRoutes } from './routes/clt.js'
import { v8Routes } from './routes/v8.js'
import { batchRoutes } from './routes/batches.js'

export interface AppDeps {
  config: ConfigStore
  db: Db
  logger: Logger
  services: TenantServices
  now: () => number
  startedAt: number
  /** How long /health reuses a healthy reading (default HEALTH_CACHE_MS; 0 reads on every probe). */
  healthCacheMs?: number
}

/** The app type every route plugin receives (zod type provider). */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

export const BODY_LIMIT = 100 * 1024

export async function buildApp (deps: AppDeps): Promise<App> {
  const config = deps.config.get()
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RequestLog(),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.TRUST_PROXY,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestTimeout: 120_000,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)

  registerSecurityHeaders(app)
  if (config.CORS_ORIGINS.length > 0) await app.register(cors, { origin: config.CORS_ORIGINS })
  if (config.RATE_LIMIT_PER_MINUTE > 0) {
    await app.register(rateLimit, { max: config.RATE_LIMIT_PER_MINUTE, timeWindow: 60_000, allowList: (req) => req.url === '/health' })
  }

  await registerDocs(app, config) // before every route: swagger collects routes as they are registered
  await app.register(healthRoutes, { deps })
  await app.register(configPageRoutes)

  // Everything registered inside this scope requires the tenant's API key.
  await app.register(async (api) => {
    api.addHook('onRequest', requireApiKey(() => deps.config.get().API_KEY))
    const { services } = deps
    await api.register(configRoutes, { config: deps.config, audit: services.configAudit, services })
    await api.register(tenantConfigRoutes, { config: deps.config, audit: services.configAudit, services })
    await api.register(cacheRoutes, { cache: services.simulationCache })
    await api.register(cltRoutes, { deps })
    await api.register(v8Routes, { deps })
    await api.register(batchRoutes, { batches: deps.services.batches })
  })

  return app
}
