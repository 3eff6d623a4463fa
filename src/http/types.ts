/** What the HTTP layer is given: the app type every route plugin receives and the services its routes call. */
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { ConfigStore } from '../config/store.js'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import type { BatchService } from '../domain/batches/service.js'
import type { BatchSheets } from '../domain/batches/sheets.js'
import type { ConfigAudit } from '../domain/config-audit.js'
import type { FlowResultsRepository } from '../domain/flow/results.js'
import type { CltSimulations } from '../domain/flow/simulations.js'
import type { FlowRunner } from '../domain/flow/types.js'
import type { PresencaRepository } from '../domain/presenca-flow/store.js'
import type { PresencaResult } from '../domain/presenca-flow/types.js'
import type { SimulationCache } from '../domain/simulation-cache.js'
import type { PresencaStatus } from '../upstream/presenca.js'
import type { Outbox } from '../domain/events/outbox.js'
import type { ProposalService } from '../domain/proposals/service.js'
import type { WebhookService } from '../domain/webhooks/service.js'
import type { V8Operations } from '../upstream/v8-operations.js'
import type { ShapeWarnings } from '../upstream/shape-warnings.js'
import type { TokenCache, TokenCacheStatus } from '../upstream/token-cache.js'
import type { V8Client } from '../upstream/v8.js'
import type { DrainingServerOptions } from './server.js'
import type { TenantMetrics } from './metrics.js'

/** The app type every route plugin receives (zod type provider). */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>

/** The verbs the routes use; the composition root (src/tenant.ts) provides them. */
export interface AppServices {
  v8: Pick<V8Client, 'testLogin' | 'listOperations'>
  tokens: Pick<TokenCache, 'get'>
  tokenStatus(): TokenCacheStatus
  /** Upstream answers that did not match the known shapes (GET /health). */
  shapeWarnings: Pick<ShapeWarnings, 'total'>
  simulationCache: SimulationCache
  configAudit: ConfigAudit
  batches: BatchService
  /** Spreadsheet uploads, counts by outcome, results files, failed rows run again. */
  batchSheets: BatchSheets
  /** The CLT flow (POST /clt/fluxo-completo). */
  flow: FlowRunner
  /** Latest flow outcome per CPF (mensagem-whatsapp). */
  flowResults: FlowResultsRepository
  /** simular-personalizada / simular-cache against the CPF's approved consult. */
  simulations: CltSimulations
  /** PresençaBank's eligibility-and-margin flow (POST /clt/fluxo-completo-precencabank, batches with banco presencabank). */
  presencaFlow: FlowRunner<PresencaResult>
  /** Latest PresençaBank result per CPF (status route, mensagem-whatsapp). */
  presencaResults: Pick<PresencaRepository, 'result' | 'counts'>
  /** Configured, token, last error, pacing (GET /health, the config page). */
  presencaStatus(): PresencaStatus
  /** A login with the saved PresençaBank credentials (the config page's check). */
  presencaLogin(): Promise<{ expires_in: number }>
  /** V8 webhooks: the receiver, registration and event state. */
  webhooks: WebhookService
  /** Events for the tenant's CALLBACK_URL and their deliveries. */
  outbox: Outbox
  /** Proposals (V8 operations). */
  proposals: ProposalService
  v8Operations: Pick<V8Operations, 'banks'>
  /** Prometheus metrics (GET /metrics); counted by the routes' hook, the upstream client and the flow. */
  metrics: TenantMetrics
}

export interface AppDeps {
  config: ConfigStore
  db: Db
  logger: Logger
  services: AppServices
  now: () => number
  startedAt: number
  /** How long /health reuses a healthy reading (default HEALTH_CACHE_MS; 0 reads on every probe). */
  healthCacheMs?: number
  /** Keep-alive and drain timings of the HTTP server (default config/lifecycle.ts; tests shorten them). */
  server?: Partial<DrainingServerOptions>
}
