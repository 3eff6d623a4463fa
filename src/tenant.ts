/** Composition root: builds one tenant's services and HTTP app from its config, database and logger, and knows their shutdown order. */
import { upstreamPolicy, type ConfigKey } from './config/schema.js'
import type { ConfigStore } from './config/store.js'
import type { Db } from './db/database.js'
import type { LogStats, Logger } from './log/logger.js'
import { AppError } from './errors.js'
import { HttpClient } from './upstream/http-client.js'
import { cpfCandidates, KentroClient } from './upstream/kentro.js'
import { PresencaClient } from './upstream/presenca.js'
import { RateLimiter } from './upstream/rate-limiter.js'
import { ShapeWarnings } from './upstream/shape-warnings.js'
import { TokenCache } from './upstream/token-cache.js'
import { CallbackSender } from './upstream/callback.js'
import { credentialsOf, passwordGrant } from './upstream/v8-auth.js'
import { V8Operations } from './upstream/v8-operations.js'
import { V8Client } from './upstream/v8.js'
import { ConfigAudit } from './domain/config-audit.js'
import { firstValidCpf } from './domain/cpf.js'
import { SimulationCache } from './domain/simulation-cache.js'
import { BatchService, type BatchServiceDeps } from './domain/batches/service.js'
import { BatchSheets, SHEET_MAX_BYTES } from './domain/batches/sheets.js'
import type { FlowRunner } from './domain/flow/types.js'
import { CltFlow } from './domain/flow/index.js'
import { FlowResultsRepository } from './domain/flow/results.js'
import { CltSimulations } from './domain/flow/simulations.js'
import { PresencaFlow } from './domain/presenca-flow/index.js'
import { PresencaRepository } from './domain/presenca-flow/store.js'
import { batchEvent, flowEvent } from './domain/events/catalog.js'
import { DeliveryWorker, type DeliveryWorkerOptions } from './domain/events/delivery.js'
import { Outbox } from './domain/events/outbox.js'
import { ProposalService } from './domain/proposals/service.js'
import { EventApplier, type ApplierDeps } from './domain/webhooks/applier.js'
import { WebhookInbox } from './domain/webhooks/inbox.js'
import { WebhookRegistrar } from './domain/webhooks/registration.js'
import { WebhookService } from './domain/webhooks/service.js'
import { buildApp } from './http/app.js'
import { TenantMetrics } from './http/metrics.js'
import type { App, AppDeps, AppServices } from './http/types.js'

/** Everything a tenant runs besides HTTP; tests reach the clients through it. */
export interface TenantServices extends AppServices {
  v8: V8Client
  kentro: KentroClient
  presenca: PresencaClient
  presencaStore: PresencaRepository
  tokens: TokenCache
  /** Upstream answers that did not match the known shapes (GET /health: checks.upstream_shape_warnings). */
  shapeWarnings: ShapeWarnings
  /** Stop what works in the background (batch workers, V8 event applier, callback deliveries), each bounded. Idempotent. */
  stopBackground(): Promise<void>
  /** Stop the background work (bounded), then release upstream connections and config listeners. */
  close(): Promise<void>
}

export interface ServiceDeps {
  config: ConfigStore
  db: Db
  logger: Logger
  now?: () => number
  /** Per-attempt upstream deadline (tests shorten it). */
  upstreamTimeoutMs?: number
  /** Batch workers' flow and engine settings (tests inject a deterministic runner, short leases). */
  batch?: { runner?: FlowRunner; listCpfs?: BatchServiceDeps['listCpfs']; engine?: Partial<BatchServiceDeps['engine']>; start?: boolean }
  /** PresençaBank's pacing wait and flow polling (tests pass a sleep that moves their clock, short polls). */
  presenca?: { sleep?: (ms: number, signal?: AbortSignal) => Promise<void>; poll?: { firstMs?: number; factor?: number; maxMs?: number }; pacingGraceMs?: number }
  /** V8 event applier and callback delivery settings (tests shorten backoffs; start: false keeps them idle). */
  events?: { start?: boolean; applier?: Partial<ApplierDeps>; delivery?: Partial<DeliveryWorkerOptions>; callbackTimeoutMs?: number }
  /** Lines written and dropped by the log destinations (main.ts passes its logger's; GET /metrics shows them). */
  logStats?: () => LogStats
  /** Process metrics (CPU, memory, event loop) in GET /metrics (default true; tests building many tenants turn them off). */
  defaultMetrics?: boolean
}

const V8_KEYS: readonly ConfigKey[] = ['V8_AUTH_URL', 'V8_API_URL', 'V8_CLIENT_ID', 'V8_AUDIENCE', 'V8_USERNAME', 'V8_PASSWORD']
const PRESENCA_KEYS: readonly ConfigKey[] = ['PRESENCABANK_URL', 'PRESENCABANK_LOGIN', 'PRESENCABANK_PASSWORD']
/** A change of any of these registers the V8 webhooks again (another URL, or another V8 account). */
const WEBHOOK_KEYS: readonly ConfigKey[] = ['PUBLIC_URL', 'V8_API_URL', 'V8_AUTH_URL', 'V8_USERNAME', 'V8_PASSWORD']

export function createServices (deps: ServiceDeps): TenantServices {
  const now = deps.now ?? Date.now
  const config = (): ReturnType<ConfigStore['get']> => deps.config.get()
  const shapeWarnings = new ShapeWarnings(deps.logger)
  // Read at scrape time; the services they read are built below.
  const metrics: TenantMetrics = new TenantMetrics({
    tokenStatus: () => tokens.status(),
    batchItems: (): Record<string, number> => batches.itemTotals(),
    shapeWarnings: () => shapeWarnings.byRoute(),
    ...(deps.logStats ? { logStats: deps.logStats } : {}),
    now,
  }, { defaultMetrics: deps.defaultMetrics ?? true })
  const http = new HttpClient({
    logger: deps.logger,
    onCall: (call) => metrics.upstreamCall(call),
    // Every connection is checked against the tenant's file (SANDBOX, UPSTREAM_ALLOWLIST): a public name resolving to a private address is refused.
    addressPolicy: () => upstreamPolicy(config()),
    ...(deps.upstreamTimeoutMs ? { timeoutMs: deps.upstreamTimeoutMs } : {}),
  })
  const tokens = new TokenCache({
    db: deps.db,
    logger: deps.logger,
    credentials: () => credentialsOf(config()),
    login: (creds, signal) => passwordGrant(http, creds, signal),
    now,
  })
  // V8_MAX_RPS is read at each call, like every V8 setting: a saved change applies at once.
  const v8 = new V8Client({ http, tokens, limiter: new RateLimiter(() => config().V8_MAX_RPS), config, logger: deps.logger, warnings: shapeWarnings, now })
  const kentro = new KentroClient(http, config, shapeWarnings, now)
  const presenca = new PresencaClient({
    http,
    config,
    warnings: shapeWarnings,
    logger: deps.logger,
    now,
    ...(deps.presenca?.sleep ? { sleep: deps.presenca.sleep } : {}),
    ...(deps.upstreamTimeoutMs ? { timeoutMs: deps.upstreamTimeoutMs } : {}),
  })
  const configAudit = new ConfigAudit(deps.db, now)

  // Events for the client's CALLBACK_URL are queued in the same transaction as the change they announce.
  const outbox = new Outbox(deps.db, { now, tenant: () => ({ name: config().TENANT_NAME, port: config().PORT }), enabled: () => config().CALLBACK_URL !== '' })
  const flowResults = new FlowResultsRepository(deps.db, { final: (record) => outbox.enqueue(flowEvent(record)) })
  // One repository over simulation_cache serves the flow (its SimulationCachePort) and the /cache routes.
  const simulationCache = new SimulationCache(deps.db, { ttlMs: () => config().CACHE_TTL_HOURS * 3_600_000, now })
  const cltFlow = new CltFlow({ v8, kentro, config, results: flowResults, cache: simulationCache, logger: deps.logger, now })
  // What the routes and the batch workers run: the same flow, its outcomes counted (GET /metrics).
  const flow = metrics.countFlows('v8', cltFlow)
  const simulations = new CltSimulations({ v8, config, results: flowResults, cache: simulationCache, now })
  const presencaStore = new PresencaRepository(deps.db)
  const presencaFlow = new PresencaFlow({
    presenca,
    kentro,
    v8,
    config,
    store: presencaStore,
    logger: deps.logger,
    now,
    ...(deps.presenca?.sleep ? { sleep: deps.presenca.sleep } : {}),
    ...(deps.presenca?.poll ? { poll: deps.presenca.poll } : {}),
    ...(deps.presenca?.pacingGraceMs !== undefined ? { pacingGraceMs: deps.presenca.pacingGraceMs } : {}),
  })

  const countedPresenca = metrics.countFlows('presencabank', presencaFlow)

  const batches = new BatchService({
    db: deps.db,
    logger: deps.logger,
    now,
    runner: deps.batch?.runner ?? flow,
    runners: { presencabank: countedPresenca },
    bankReady: (bank) => {
      if (bank === 'presencabank' && !presenca.configured) {
        throw new AppError('presencabank_nao_configurado', 'O PresençaBank não está configurado nesta porta: defina PRESENCABANK_LOGIN e PRESENCABANK_PASSWORD em /config-v8.', 409)
      }
    },
    listCpfs: deps.batch?.listCpfs ?? (async (pipelineId, signal) => (await kentro.getPipeOpportunities(pipelineId, signal)).map(pipelineCpf)),
    maxItems: () => config().BATCH_MAX_ITEMS,
    quotas: () => ({ batchesPerDay: config().BATCHES_PER_DAY, itemsPerDay: config().BATCH_ITEMS_PER_DAY, maxPendingItems: config().BATCH_MAX_PENDING_ITEMS }),
    onFinished: (batch, counts) => outbox.enqueue(batchEvent(batch, counts)),
    // BATCH_CONCURRENCY is read once: a change applies on the next reload.
    engine: { concurrency: config().BATCH_CONCURRENCY, retentionMs: config().BATCH_RETENTION_DAYS * 86_400_000, ...deps.batch?.engine },
  })
  if (deps.batch?.start !== false) batches.start()
  const batchSheets = new BatchSheets({ db: deps.db, batches, now, maxBytes: SHEET_MAX_BYTES, maxRows: () => config().BATCH_MAX_ITEMS })

  const v8Operations = new V8Operations(v8, config, shapeWarnings, now)
  const proposals = new ProposalService({ db: deps.db, v8, ops: v8Operations, kentro, results: flowResults, cache: simulationCache, outbox, config, logger: deps.logger, now })
  const inbox = new WebhookInbox(deps.db)
  const registrar = new WebhookRegistrar({ db: deps.db, v8: v8Operations, config, logger: deps.logger, now })
  // The counted flow: a run an event resumes is a flow run too (GET /metrics flows_total).
  const applier = new EventApplier({ inbox, results: flowResults, flow, batches, proposals, logger: deps.logger, now, ...deps.events?.applier })
  const webhooks = new WebhookService(registrar, inbox, applier, deps.logger, now)
  // CALLBACK_URL goes through the same address policy as the upstreams, checked at every connect.
  const callbacks = new CallbackSender({ addressPolicy: () => upstreamPolicy(config()), logger: deps.logger, ...(deps.events?.callbackTimeoutMs ? { timeoutMs: deps.events.callbackTimeoutMs } : {}) })
  const delivery = new DeliveryWorker({
    outbox,
    send: (d) => callbacks.send(d),
    target: () => ({ url: config().CALLBACK_URL, secret: config().CALLBACK_SECRET, maxAttempts: config().CALLBACK_MAX_ATTEMPTS }),
    logger: deps.logger,
    now,
    ...deps.events?.delivery,
  })
  if (deps.events?.start !== false) {
    applier.start()
    delivery.start()
  }

  const unsubscribe = deps.config.onChange((_next, _prev, changed) => {
    if (changed.some((k) => V8_KEYS.includes(k))) tokens.invalidate()
    if (changed.some((k) => PRESENCA_KEYS.includes(k))) presenca.invalidate()
    if (changed.some((k) => WEBHOOK_KEYS.includes(k))) registrar.register()
    if (changed.includes('CALLBACK_URL') || changed.includes('CALLBACK_SECRET')) delivery.wake()
    if (changed.includes('METRICS_TOKEN') && config().METRICS_TOKEN !== '') {
      metrics.enable().catch((err: unknown) => deps.logger.error({ err }, 'metrics: prom-client could not be loaded'))
    }
  })
  let background: Promise<void> | undefined
  const stopBackground = (): Promise<void> => (background ??= Promise.all([batches.shutdown(), applier.stop(), delivery.stop()]).then(() => undefined))

  return {
    v8,
    kentro,
    presenca,
    tokens,
    shapeWarnings,
    simulationCache,
    configAudit,
    batches,
    batchSheets,
    flow,
    flowResults,
    simulations,
    presencaFlow: countedPresenca,
    presencaResults: presencaStore,
    presencaStore,
    presencaStatus: () => presenca.status(),
    presencaLogin: () => presenca.testLogin(),
    webhooks,
    outbox,
    proposals,
    v8Operations,
    metrics,
    tokenStatus: () => tokens.status(),
    stopBackground,
    close: async () => {
      unsubscribe()
      registrar.close()
      // Stop claiming, let in-flight work finish (bounded), release the rest; only then drop connections.
      await stopBackground()
      await Promise.all([http.close(), callbacks.close()])
    },
  }
}

/** The CPF a pipeline opportunity holds: the first valid one of mainmail, the form's CPF field, a CPF title. */
function pipelineCpf (o: Parameters<typeof cpfCandidates>[0]): string {
  return firstValidCpf(cpfCandidates(o)) ?? o.mainmail
}

export interface TenantDeps extends ServiceDeps {
  /** When the process started (uptime in /health). */
  startedAt?: number
  /** How long /health reuses a healthy reading (tests use 0). */
  healthCacheMs?: number
  /** Keep-alive and drain timings of the HTTP server (tests shorten them). */
  server?: AppDeps['server']
}

export interface Tenant {
  app: App
  services: TenantServices
  /** Stop in order: background work (batches, V8 events, callbacks) and HTTP drain together, then upstream connections, then the database. */
  close(): Promise<void>
}

/** One tenant, ready to listen. It owns the database it is given: close() closes it last. */
export async function createTenant (deps: TenantDeps): Promise<Tenant> {
  const now = deps.now ?? Date.now
  const services = createServices({ ...deps, now })
  // prom-client loads only for a tenant whose metrics are on (http/metrics.ts); then its histograms count from start.
  if (deps.config.get().METRICS_TOKEN !== '') await services.metrics.enable()
  const app = await buildApp({
    config: deps.config,
    db: deps.db,
    logger: deps.logger,
    services,
    now,
    startedAt: deps.startedAt ?? now(),
    ...(deps.healthCacheMs !== undefined ? { healthCacheMs: deps.healthCacheMs } : {}),
    ...(deps.server ? { server: deps.server } : {}),
  })
  // V8 tests a webhook URL before accepting it: register once this process answers on it (and again on changes).
  app.addHook('onListen', async () => services.webhooks.registrar.register())
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    // Background workers stop claiming at once and get the grace for work in flight while HTTP drains.
    const backgroundStopped = services.stopBackground()
    // Drains (src/http/server.ts): stops accepting, answers what still arrives on open connections with
    // Connection: close, closes idle ones past their keep-alive time; event streams end in their preClose.
    await app.close()
    await backgroundStopped
    await services.close()
    deps.db.close()
  }
  return {
    app,
    services,
    close: () => (closing ??= close()),
  }
}
