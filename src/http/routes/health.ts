/** GET /health — liveness and readiness of this tenant, and which integrations are configured; public (no secrets in it). */
import type { FastifyPluginAsync } from 'fastify'
import { kentroConfigured, presencaConfigured, v8Configured, type TenantConfig } from '../../config/schema.js'
import type { ConfigStore } from '../../config/store.js'
import { databaseProbe, type Db } from '../../db/database.js'
import type { PresencaStatus } from '../../upstream/presenca.js'
import type { TokenCacheStatus } from '../../upstream/token-cache.js'

/** How long a healthy reading is reused: a burst of probes costs one set of SQLite reads per interval. */
export const HEALTH_CACHE_MS = 1000

interface Checks {
  dbOk: boolean
  webhooks?: Record<string, unknown>
  batches: { pending: number; running: number }
  token: { cached: boolean; expires_in: number | null; obtained_at: string | null }
  /** PresençaBank CPFs by state; null when it is not configured. */
  presenca: PresencaCounts | null
}

type PresencaCounts = { total: number; processando: number; concluidos: number; erros: number }

export interface HealthRouteOptions {
  db: Db
  config: ConfigStore
  now: () => number
  startedAt: number
  /** What the checks report besides the database. */
  status: {
    batchCounts(): { pending: number; running: number }
    tokenStatus(): TokenCacheStatus
    /** Upstream answers (or listing items) that did not match the known shapes since start: contract drift. */
    shapeWarnings(): number
    /** PresençaBank: configured, token cached, last error, calls waiting for their pacing slot. */
    presencaStatus(): PresencaStatus
    /** PresençaBank results by state (the older system's `precencabank.cache`). */
    presencaCounts(): PresencaCounts
    /** V8 webhook registration, refused deliveries (wrong secret), events and callbacks waiting or dead. */
    webhooks?(): Record<string, unknown>
  }
  /** How long a healthy reading is reused (default HEALTH_CACHE_MS; 0 reads on every probe). */
  cacheMs?: number
  /** Monotonic milliseconds for that reuse (tests pass their own). */
  clock?: () => number
}

/** The PresençaBank block: never a secret, only whether it can work and what went wrong last. */
function presencaCheck (s: PresencaStatus): Record<string, unknown> {
  return { configured: s.configured, token_cached: s.token_cached, expires_in: s.expires_in, last_error: s.last_error, last_error_at: s.last_error_at, per_minute: s.per_minute, waiting: s.waiting }
}

export const healthRoutes: FastifyPluginAsync<HealthRouteOptions> = async (app, deps) => {
  const databaseOk = databaseProbe(deps.db)
  const cacheMs = deps.cacheMs ?? HEALTH_CACHE_MS
  const clock = deps.clock ?? (() => performance.now())
  /** The last answer: the reading, what else it was made from, and its serialized tail (see the route). */
  let cached: { at: number; checks: Checks; config: TenantConfig; warnings: number; presenca: string; tail: string } | undefined

  const read = (): Checks => {
    let dbOk = databaseOk()
    let batches = { pending: 0, running: 0 }
    let token: Checks['token'] = { cached: false, expires_in: null, obtained_at: null }
    let presenca: PresencaCounts | null = null
    let webhooks: Checks['webhooks']
    if (dbOk) {
      // These read the database; when it is unusable the database check already says what matters.
      try {
        batches = deps.status.batchCounts()
        const t = deps.status.tokenStatus()
        token = { cached: t.cached, expires_in: t.expires_in, obtained_at: t.obtained_at }
        if (deps.status.presencaStatus().configured) presenca = deps.status.presencaCounts()
        webhooks = deps.status.webhooks?.()
      } catch {
        dbOk = false
      }
    }
    return { dbOk, batches, token, presenca, ...(webhooks ? { webhooks } : {}) }
  }

  /** The body after status, timestamp and uptime (the fields that change per request go first, outside it). */
  const tailOf = (checks: Checks, config: TenantConfig, warnings: number, presencaStatus: Record<string, unknown>): string => {
    const { dbOk, batches, token, presenca, webhooks } = checks
    const json = JSON.stringify({
      environment: config.ENVIRONMENT,
      port: config.PORT,
      tenant: config.TENANT_NAME,
      checks: {
        database: dbOk ? 'ok' : 'unavailable',
        // When the token was obtained (its age: the fleet console shows it); never the token.
        v8_token: { cached: token.cached, expires_in: token.expires_in, obtained_at: token.obtained_at },
        batches,
        upstream_shape_warnings: warnings,
        presencabank: presencaStatus,
        // Liveness does not depend on these (a tenant without its V8 login still runs and serves its page), but an
        // operator or a monitor must see that it cannot do its work yet.
        integrations: {
          v8: { configured: v8Configured(config) },
          kentro: { configured: kentroConfigured(config) },
          presencabank: { configured: presencaConfigured(config) },
        },
        ...(webhooks ? { webhooks } : {}),
      },
      // The older system's block, for monitors that read it (only when PresençaBank is configured here).
      ...(presenca
        ? { precencabank: { cache: presenca, endpoints: { fluxoCompleto: '/clt/fluxo-completo-precencabank', status: '/clt/status-precencabank/:cpf' } } }
        : {}),
    })
    return json.slice(1) // without its opening brace: the fields that change per request go first
  }

  /** GET /health — probes (PM2 scripts, Kubernetes every few seconds) log only when something is wrong. */
  app.get('/health', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const now = clock()
    const config = deps.config.get()
    const warnings = deps.status.shapeWarnings()
    const presencaStatus = presencaCheck(deps.status.presencaStatus())
    const presenca = Object.values(presencaStatus).join('|')
    // Probes and load balancers ask far more often than anything here changes. One rule for the cached answer: it is
    // reused while healthy, younger than cacheMs and made from the config, shape warnings and PresençaBank status in
    // force; otherwise the database is read and the tail serialized again. So an unhealthy reading is never reused
    // (recovery shows at the next probe), and a config save, a new warning or a PresençaBank change shows at once.
    if (!cached || !cached.checks.dbOk || now - cached.at >= cacheMs || cached.config !== config || cached.warnings !== warnings || cached.presenca !== presenca) {
      const checks = read()
      cached = { at: now, checks, config, warnings, presenca, tail: tailOf(checks, config, warnings, presencaStatus) }
    }
    const { dbOk } = cached.checks
    const head = `{"status":"${dbOk ? 'OK' : 'DEGRADED'}","timestamp":"${new Date(deps.now()).toISOString()}","uptime":${Math.round((deps.now() - deps.startedAt) / 1000)},`
    return reply.code(dbOk ? 200 : 503).type('application/json; charset=utf-8').send(head + cached.tail)
  })
}
