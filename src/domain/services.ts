/** Everything a tenant process runs besides HTTP, wired once from its config, db and logger. */
import type { ConfigKey } from '../config/schema.js'
import type { ConfigStore } from '../config/store.js'
import type { Db } from '../db/database.js'
import type { Logger } from '../log/logger.js'
import { HttpClient } from '../upstream/http-client.js'
import { KentroClient } from '../upstream/kentro.js'
import { PresencaClient } from '../upstream/presenca.js'
import { RateLimiter } from '../upstream/rate-limiter.js'
import { TokenCache } from '../upstream/token-cache.js'
import { credentialsOf, passwordGrant } from '../upstream/v8-auth.js'
import { V8Client } from '../upstream/v8.js'
import { ConfigAudit } from './config-audit.js'
import { SimulationCache } from './simulation-cache.js'
import { BatchService, type BatchServiceDeps } from './batches/service.js'
import type { FlowRunner } from './flow-types.js'
import { CltFlow } from './flow.js'
import { FlowResultsRepo } from './flow-results.js'
import { CltSimulations } from './flow-simulations.js'

export interface TokenStatus {
  cached: boolean
  /** Seconds until the cached token expires; null when none is cached. */
  expires_in: number | null
  /** When the last token was obtained (ISO), if known. */
  obtained_at: string | null
  /** The last login failure's reason (no secrets), if the last attempt failed. */
  last_error: string | null
}

export interface TenantServices {
  v8: V8Client
  kentro: KentroClient
  presenca: PresencaClient
  tokens: TokenCache
  simulationCache: SimulationCache
  configAudit: ConfigAudit
  batches: BatchService
  /** The CLT flow (POST /clt/fluxo-completo and the batch workers). */
  flow: FlowRunner
  /** Latest flow outcome per CPF (mensagem-whatsapp). */
  flowResults: FlowResultsRepo
  /** simular-personalizada / simular-cache against the CPF's approved consult. */
  simulations: CltSimulations
  tokenStatus(): TokenStatus
  batchCounts(): { pending: number; running: number }
  /** Stop background work (batch workers) and release upstream connections. */
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
}

const V8_KEYS: readonly ConfigKey[] = ['V8_AUTH_URL', 'V8_API_URL', 'V8_CLIENT_ID', 'V8_AUDIENCE', 'V8_USERNAME', 'V8_PASSWORD']
const PRESENCA_KEYS: readonly ConfigKey[] = ['PRESENCABANK_URL', 'PRESENCABANK_LOGIN', 'PRESENCABANK_PASSWORD']

export function createServices (deps: ServiceDeps): TenantServices {
  const now = deps.now ?? Date.now
  const config = (): ReturnType<ConfigStore['get']> => deps.config.get()
  const http = new HttpClient({ logger: deps.logger, ...(deps.upstreamTimeoutMs ? { timeoutMs: deps.upstreamTimeoutMs } : {}) })
  const tokens = new TokenCache({
    db: deps.db,
    logger: deps.logger,
    credentials: () => credentialsOf(config()),
    login: (creds, signal) => passwordGrant(http, creds, signal),
    now,
  })
  // V8_MAX_RPS is read at each call, like every V8 setting: a saved change applies at once.
  const v8 = new V8Client({ http, tokens, limiter: new RateLimiter(() => config().V8_MAX_RPS), config, logger: deps.logger, now })
  const kentro = new KentroClient(http, config, now)
  const presenca = new PresencaClient(http, config, now)
  const configAudit = new ConfigAudit(deps.db, now)

  const flowResults = new FlowResultsRepo(deps.db)
  // One repository over simulation_cache serves the flow (its SimulationCachePort) and the /cache routes.
  const simulationCache = new SimulationCache(deps.db, { ttlMs: () => config().CACHE_TTL_HOURS * 3_600_000, now })
  const flow = new CltFlow({ v8, kentro, config, results: flowResults, cache: simulationCache, logger: deps.logger, now })
  const simulations = new CltSimulations({ v8, results: flowResults, cache: simulationCache, now })

  const batches = new BatchService({
    db: deps.db,
    logger: deps.logger,
    now,
    runner: deps.batch?.runner ?? flow,
    listCpfs: deps.batch?.listCpfs ?? (async (pipelineId, signal) => (await kentro.getPipeOpportunities(pipelineId, signal)).map((o) => o.mainmail)),
    maxItems: () => config().BATCH_MAX_ITEMS,
    // BATCH_CONCURRENCY is read once: a change applies on the next reload.
    engine: { concurrency: config().BATCH_CONCURRENCY, retentionMs: config().BATCH_RETENTION_DAYS * 86_400_000, ...deps.batch?.engine },
  })
  if (deps.batch?.start !== false) batches.start()

  const unsubscribe = deps.config.onChange((_next, _prev, changed) => {
    if (changed.some((k) => V8_KEYS.includes(k))) tokens.invalidate()
    if (changed.some((k) => PRESENCA_KEYS.includes(k))) presenca.invalidate()
  })

  return {
    v8,
    kentro,
    presenca,
    tokens,
    simulationCache,
    configAudit,
    batches,
    flow,
    flowResults,
    simulations,
    tokenStatus: () => tokens.status(),
    batchCounts: () => batches.activeTotals(),
    close: async () => {
      unsubscribe()
      // Stop claiming, let in-flight items finish (bounded), release the rest; only then drop connections.
      await batches.shutdown()
      await http.close()
    },
  }
}
