/** buildApp(deps): the tenant's fastify app with every route plugin registered here, in one place. */
import Fastify, { type FastifyBaseLogger, type FastifyServerOptions } from 'fastify'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import { DRAIN_DEADLINE_MS, KEEP_ALIVE_TIMEOUT_MS } from '../config/lifecycle.js'
import { AuthFailureGuard, requireBearer, type AuthLimits } from './auth.js'
import { registerErrorHandling } from './errors.js'
import { registerJsonBody } from './json-body.js'
import { RequestLog } from './request-log.js'
import { requestLoggerFactory } from './request-logger.js'
import { fastifyTrustProxy } from './trust-proxy.js'
import { registerSecurityHeaders } from './security-headers.js'
import { drainingServerFactory } from './server.js'
import { healthRoutes } from './routes/health.js'
import { metricsRoutes } from './routes/metrics.js'
import { cacheRoutes } from './routes/cache.js'
import { configRoutes } from './routes/config.js'
import { configPageRoutes } from './routes/config-page.js'
import { tenantConfigRoutes } from './routes/config-tenant.js'
import { registerDocs } from './routes/docs.js'
import { cltRoutes } from './routes/clt.js'
import { v8Routes } from './routes/v8.js'
import { batchRoutes } from './routes/batches.js'
import { batchSheetRoutes } from './routes/batches-sheet.js'
import { SHEET_MAX_BYTES } from '../domain/batches/sheets.js'
import { presencaRoutes } from './routes/presenca.js'
import { proposalRoutes } from './routes/proposals.js'
import { webhookAdminRoutes } from './routes/webhooks-admin.js'
import { v8WebhookRoutes } from './routes/webhooks-v8.js'
import { webhookSecretOf } from './webhook-path.js'
import type { App, AppDeps } from './types.js'

export type { App, AppDeps } from './types.js'

export const BODY_LIMIT = 100 * 1024

/** fastify's compiler factories, building fastify-type-provider-zod's compilers (typed by fastify for Ajv's options, which zod takes none of). */
const ZOD_COMPILERS = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>

export async function buildApp (deps: AppDeps): Promise<App> {
  const config = deps.config.get()
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new RequestLog({ secrets: () => deps.config.secrets() }),
    childLoggerFactory: requestLoggerFactory,
    bodyLimit: BODY_LIMIT,
    trustProxy: fastifyTrustProxy(config.TRUST_PROXY),
    // Closing drains (src/http/server.ts): a request arriving on an open connection is answered with
    // `Connection: close`, not refused with 503, and idle connections are not dropped under their clients.
    serverFactory: drainingServerFactory({
      keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
      requestTimeoutMs: 120_000,
      drainDeadlineMs: DRAIN_DEADLINE_MS,
      ...deps.server,
    }),
    return503OnClosing: false,
    forceCloseConnections: false,
    // Every route schema is zod: its compilers check and serialize them. Given as the factories, fastify does not
    // also build its defaults (Ajv, fast-json-stringify) only to replace them, which loaded both at every start.
    schemaController: { compilersFactory: ZOD_COMPILERS },
  }).withTypeProvider<ZodTypeProvider>()
  registerJsonBody(app)
  registerErrorHandling(app)
  // Requests by method, route pattern and status: one Map update per response (http/metrics.ts).
  const { metrics } = deps.services
  app.addHook('onResponse', (req, reply, done) => {
    metrics.countRequest(req.method, req.routeOptions.url, reply.statusCode)
    done()
  })

  registerSecurityHeaders(app)
  if (config.CORS_ORIGINS.length > 0) await app.register(cors, { origin: config.CORS_ORIGINS })
  if (config.RATE_LIMIT_PER_MINUTE > 0) {
    // V8's deliveries to the right secret are not limited: a refused one is redelivered, which only adds load.
    const isV8Delivery = (url: string): boolean => {
      const secret = webhookSecretOf(url)
      return secret !== undefined && deps.services.webhooks.registrar.isSecret(secret)
    }
    await app.register(rateLimit, { max: config.RATE_LIMIT_PER_MINUTE, timeWindow: 60_000, allowList: (req) => req.url === '/health' || isV8Delivery(req.url) })
  }

  await registerDocs(app, config) // before every route: swagger collects routes as they are registered
  await app.register(healthRoutes, {
    db: deps.db,
    config: deps.config,
    now: deps.now,
    startedAt: deps.startedAt,
    status: {
      batchCounts: () => deps.services.batches.activeTotals(),
      tokenStatus: () => deps.services.tokenStatus(),
      shapeWarnings: () => deps.services.shapeWarnings.total,
      presencaStatus: () => deps.services.presencaStatus(),
      presencaCounts: () => deps.services.presencaResults.counts(),
      webhooks: () => webhookHealth(deps.services),
    },
    ...(deps.healthCacheMs !== undefined ? { cacheMs: deps.healthCacheMs } : {}),
  })
  await app.register(configPageRoutes)
  // Wrong API keys and wrong metrics tokens lock an address out under the same limits, each counted on its own.
  const authLimits = (): AuthLimits => {
    const c = deps.config.get()
    return { failuresPerMinute: c.AUTH_FAILURES_PER_MINUTE, lockoutSeconds: c.AUTH_LOCKOUT_SECONDS }
  }
  // Its own token (METRICS_TOKEN), not the API key: outside the API-key scope.
  await app.register(metricsRoutes, { metrics, token: () => deps.config.get().METRICS_TOKEN, guard: new AuthFailureGuard(authLimits, deps.now) })
  // V8 sends no credentials: its deliveries are checked by the secret in their path, outside the API-key scope.
  await app.register(v8WebhookRoutes, { webhooks: deps.services.webhooks })

  // Everything registered inside this scope requires the tenant's API key.
  await app.register(async (api) => {
    const guard = new AuthFailureGuard(authLimits, deps.now)
    api.addHook('onRequest', requireBearer(() => deps.config.get().API_KEY, guard, (reason) => {
      // A request without a key (the page before one is typed) is no refused key.
      if (reason !== 'no_key') metrics.authFailure(reason)
    }))
    const { services } = deps
    await api.register(configRoutes, { config: deps.config, audit: services.configAudit, services })
    await api.register(tenantConfigRoutes, { config: deps.config, audit: services.configAudit, services })
    await api.register(cacheRoutes, { cache: services.simulationCache })
    await api.register(cltRoutes, { flow: services.flow, flowResults: services.flowResults, simulations: services.simulations, presencaResults: services.presencaResults, proposals: services.proposals })
    await api.register(presencaRoutes, { services })
    await api.register(proposalRoutes, { proposals: services.proposals, ops: services.v8Operations })
    await api.register(webhookAdminRoutes, { webhooks: services.webhooks, outbox: services.outbox, config: () => deps.config.get() })
    await api.register(v8Routes, { v8: services.v8, now: deps.now, provider: () => deps.config.get().V8_PROVIDER })
    await api.register(batchSheetRoutes, { batches: services.batches, sheets: services.batchSheets, maxBytes: SHEET_MAX_BYTES })
    await api.register(batchRoutes, {
      batches: services.batches,
      sheets: services.batchSheets,
      streamLimits: () => {
        const c = deps.config.get()
        return { total: c.EVENT_STREAMS_MAX, perAddress: c.EVENT_STREAMS_PER_ADDRESS }
      },
    })
  })

  return app
}

/** /health's view of webhooks and callbacks: registration per kind, refused deliveries, events and callbacks stuck. */
function webhookHealth (services: AppDeps['services']): Record<string, unknown> {
  const w = services.webhooks.status()
  const c = services.outbox.counts()
  return {
    v8: Object.fromEntries(w.registrations.map((r) => [r.kind, r.status])),
    refused: w.refused,
    events_pending: w.events.pending,
    events_failed: w.events.failed,
    callbacks: { pending: c.pending + c.sending, dead: c.dead },
  }
}
